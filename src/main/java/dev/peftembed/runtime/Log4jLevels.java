package dev.peftembed.runtime;

import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.config.Configuration;
import org.apache.logging.log4j.core.config.Configurator;

/**
 * Log4j 2 levels, set programmatically. Only {@link CudaProbeLog} calls it, and only once log4j 2 is known to be
 * SLF4J's backend, so that this class and log4j-core are never loaded in an application without them.
 */
final class Log4jLevels {
  private Log4jLevels() {}

  /**
   * Raises {@code logger} to ERROR when the configuration leaves it to the root logger: a level the application set
   * for it or for a parent wins.
   *
   * @param logger a logger name
   */
  static void raiseToErrorUnlessConfigured(String logger) {
    if (LogManager.getContext(false) instanceof LoggerContext context) {
      Configuration config = context.getConfiguration();
      if (config.getLoggerConfig(logger).equals(config.getRootLogger())) {
        Configurator.setLevel(logger, Level.ERROR);
      }
    }
  }
}

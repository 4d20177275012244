package dev.peftembed.runtime;

import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.LoggerFactory;

/**
 * Keeps DJL's CUDA probe quiet on machines without a GPU. DJL asks the CUDA runtime for the GPU count several times
 * while the engine starts (platform detection, the libtorch flavour) whatever device was chosen, and where a CUDA
 * toolkit is installed but no NVIDIA driver is loaded each ask logs {@code WARN CudaUtils: Failed to detect GPU
 * count}. The asks cannot be avoided from outside DJL, so on such a machine the probe's logger is raised to ERROR,
 * unless the application's logging configuration names that logger or one of its parents itself. On a machine with
 * a driver the warning means something and stays.
 */
final class CudaProbeLog {
  /** DJL's probe logger. */
  static final String LOGGER = "ai.djl.util.cuda.CudaUtils";

  /** Present whenever the NVIDIA kernel driver is loaded. */
  private static final Path NVIDIA_DRIVER = Path.of("/proc/driver/nvidia");

  private CudaProbeLog() {}

  /** Raises the probe's logger to ERROR on a machine without an NVIDIA driver, when log4j 2 is SLF4J's backend. */
  static synchronized void quietWithoutGpu() {
    if (Files.exists(NVIDIA_DRIVER) || !log4jIsBackend()) {
      return;
    }
    Log4jLevels.raiseToErrorUnlessConfigured(LOGGER);
  }

  /** Spark's own backend; an application on another one (logback) configures that logger there. */
  private static boolean log4jIsBackend() {
    return LoggerFactory.getILoggerFactory().getClass().getName().startsWith("org.apache.logging.slf4j.");
  }
}

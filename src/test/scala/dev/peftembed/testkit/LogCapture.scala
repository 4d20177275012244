package dev.peftembed.testkit

import java.util.concurrent.ConcurrentLinkedQueue
import org.apache.logging.log4j.{Level, LogManager}
import org.apache.logging.log4j.core.{LogEvent, LoggerContext}
import org.apache.logging.log4j.core.appender.AbstractAppender
import org.apache.logging.log4j.core.config.{Configurator, Property}
import scala.jdk.CollectionConverters._

/** The messages one logger writes while a block runs, at INFO and above, whatever the test log level is. */
object LogCapture {
  def apply[T](loggerName: String)(block: => T): (T, Seq[String]) = {
    val messages = new ConcurrentLinkedQueue[String]()
    val appender = new AbstractAppender("capture-" + loggerName, null, null, true, Property.EMPTY_ARRAY) {
      override def append(event: LogEvent): Unit = messages.add(event.getMessage.getFormattedMessage)
    }
    appender.start()
    val context = LogManager.getContext(false).asInstanceOf[LoggerContext]
    val logger = context.getLogger(loggerName)
    val savedLevel = logger.getLevel
    logger.addAppender(appender)
    Configurator.setLevel(loggerName, Level.INFO)
    try (block, messages.asScala.toSeq)
    finally {
      Configurator.setLevel(loggerName, savedLevel)
      logger.removeAppender(appender)
      appender.stop()
    }
  }
}

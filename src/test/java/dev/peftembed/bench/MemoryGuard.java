package dev.peftembed.bench;

import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stops a benchmark JVM whose resident memory passes a limit, before it exhausts the machine: a system whose memory
 * grows with the texts it encodes would otherwise take the host down (and every process on it) instead of failing
 * its own run with a message.
 */
final class MemoryGuard {
  /** The exit code of a JVM stopped by the guard. */
  static final int EXIT_CODE = 3;

  private static final Logger LOG = LoggerFactory.getLogger(MemoryGuard.class);
  private static final long PERIOD_MS = 100;

  private MemoryGuard() {}

  /**
   * Starts a daemon thread that halts this JVM once its resident memory exceeds {@code limitMb}.
   *
   * @param what names the JVM in the message, such as "system a"
   */
  static void watch(double limitMb, String what) {
    Thread t = new Thread(() -> {
      while (true) {
        double rss = ProcessMemory.rssMb();
        if (rss > limitMb) {
          LOG.error("{}", String.format(Locale.ROOT, "%s: resident memory %.0f MiB exceeds the limit of %.0f MiB "
              + "(--max-rss-mb); stopping it. Memory that grows with the texts encoded is a leak to fix first.",
              what, rss, limitMb));
          System.err.flush();
          Runtime.getRuntime().halt(EXIT_CODE);
        }
        try {
          TimeUnit.MILLISECONDS.sleep(PERIOD_MS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }, "bench-memory-guard");
    t.setDaemon(true);
    t.start();
  }
}

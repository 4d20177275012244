package dev.peftembed.bench;

import java.util.concurrent.TimeUnit;

/**
 * Samples this process's resident memory in a daemon thread and keeps the peak since the last {@link #reset}: the
 * kernel's own peak (VmHWM) only ever grows, so a per-job peak needs sampling.
 */
final class RssSampler implements AutoCloseable {
  private final Thread thread;
  private volatile double peakMb;
  private volatile boolean running = true;

  /** @param intervalMs the sampling period; a short job's peak can fall between samples */
  RssSampler(long intervalMs) {
    peakMb = ProcessMemory.rssMb();
    thread = new Thread(() -> {
      while (running) {
        double now = ProcessMemory.rssMb();
        synchronized (this) {
          peakMb = Math.max(peakMb, now);
        }
        try {
          TimeUnit.MILLISECONDS.sleep(intervalMs);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }, "bench-rss-sampler");
    thread.setDaemon(true);
    thread.start();
  }

  /** Starts a new peak from the current resident memory. */
  synchronized void reset() {
    peakMb = ProcessMemory.rssMb();
  }

  /** @return the peak since the last reset, in MiB, the current value included */
  synchronized double peakMb() {
    peakMb = Math.max(peakMb, ProcessMemory.rssMb());
    return peakMb;
  }

  @Override
  public void close() {
    running = false;
    thread.interrupt();
  }
}

package dev.peftembed.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * This process's resident memory as the kernel counts it: Java heap, metaspace, thread stacks and every native
 * allocation (libtorch, ONNX Runtime, tokenizers) together, which no JVM counter sees.
 */
final class ProcessMemory {
  private static final Path STATUS = Path.of("/proc/self/status");

  private ProcessMemory() {}

  /** @return resident set size now, in MiB */
  static double rssMb() {
    return field("VmRSS:");
  }

  /** @return the peak resident set size since the process started, in MiB */
  static double peakRssMb() {
    return field("VmHWM:");
  }

  /** Reads a "Name:  N kB" line of /proc/self/status; NaN where there is no procfs (not Linux). */
  private static double field(String name) {
    try {
      for (String line : Files.readAllLines(STATUS)) {
        if (line.startsWith(name)) {
          String[] parts = line.substring(name.length()).trim().split("\\s+");
          return Long.parseLong(parts[0]) / 1024.0;
        }
      }
      return Double.NaN;
    } catch (IOException | RuntimeException e) {
      return Double.NaN;
    }
  }
}

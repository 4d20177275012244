package dev.peftembed.bench;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * The machine line every published figure carries: figures from different machines are not comparable.
 *
 * @param host the host name, as used in result file names
 * @param cpu the CPU model, with its widest vector extension
 * @param cores cores visible to the JVM
 * @param memoryGib physical memory
 * @param os kernel name and release
 * @param java the Java runtime version
 */
record MachineInfo(String host, String cpu, int cores, double memoryGib, String os, String java) {

  /** Reads this machine's facts; anything unreadable is "unknown". */
  static MachineInfo current() {
    List<String> cpuinfo = lines("/proc/cpuinfo");
    String model = field(cpuinfo, "model name");
    String flags = " " + field(cpuinfo, "flags") + " ";
    String vector = flags.contains(" avx512f ") ? "AVX-512" : flags.contains(" avx2 ") ? "AVX2" : "no AVX2";
    String mem = field(lines("/proc/meminfo"), "MemTotal").replace("kB", "").trim();
    double gib = mem.equals("unknown") ? Double.NaN : Long.parseLong(mem) / (1024.0 * 1024.0);
    return new MachineInfo(hostName(), model + ", " + vector, Runtime.getRuntime().availableProcessors(), gib,
        System.getProperty("os.name") + " " + System.getProperty("os.version"),
        System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
  }

  /** @return one line for logs, tables and the closing note */
  String line() {
    return String.format(Locale.ROOT, "%s: %s, %d cores, %.0f GiB, %s, %s", host, cpu, cores, memoryGib, os, java);
  }

  /** @return the host name reduced to characters safe in a file name */
  String fileSafeHost() {
    return host.replaceAll("[^A-Za-z0-9._-]", "_");
  }

  private static String hostName() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      String env = System.getenv("HOSTNAME");
      return env == null || env.isBlank() ? "unknown-host" : env;
    }
  }

  private static List<String> lines(String file) {
    try {
      return Files.readAllLines(Path.of(file));
    } catch (IOException e) {
      return List.of();
    }
  }

  private static String field(List<String> lines, String name) {
    for (String line : lines) {
      int colon = line.indexOf(':');
      if (colon > 0 && line.substring(0, colon).trim().equals(name)) {
        return line.substring(colon + 1).trim();
      }
    }
    return "unknown";
  }
}

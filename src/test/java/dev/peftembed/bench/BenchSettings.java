package dev.peftembed.bench;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * What one benchmark run measures, after presets and flags are combined.
 *
 * @param systems the selected systems, letters a–f
 * @param corpora texts per corpus, in run order
 * @param repetitions timed rounds after the warm-up; figures are their medians
 * @param sparkRows row counts for system e, each one job, ascending
 * @param sparkCorpus the corpus system e's rows are drawn from
 * @param seed the corpus seed
 * @param maxRssMb resident memory past which a benchmark JVM stops itself and the run fails
 * @param outDir where the CSV, PNG and JSON go
 * @param machine the machine name in file names
 */
record BenchSettings(Set<String> systems, Map<CorpusKind, Integer> corpora, int repetitions, long[] sparkRows,
    CorpusKind sparkCorpus, long seed, double maxRssMb, Path outDir, String machine) {

  /** The figures a full run publishes: under 20 minutes on 2 cores. */
  static final int FULL_TEXTS = 500;
  static final int FULL_LONG_TEXTS = 100;
  static final long[] FULL_SPARK_ROWS = {1_000, 10_000, 20_000, 100_000};

  /** A quick run: the same steps on small inputs, under 3 minutes on 2 cores. */
  static final int QUICK_TEXTS = 100;
  static final int QUICK_LONG_TEXTS = 20;
  static final long[] QUICK_SPARK_ROWS = {1_000, 5_000};

  /**
   * The default memory limit of each benchmark JVM: four times the 2 GB target for encode, and small enough
   * that the five JVMs of a run fit a 24 GiB machine even when one of them leaks.
   */
  static final double DEFAULT_MAX_RSS_MB = 8192;

  /** The minimum: a median of at least 5 repetitions. */
  static final int DEFAULT_REPETITIONS = 5;

  /** All systems, in table order. */
  static final List<String> ALL_SYSTEMS = List.of("a", "b", "c", "d", "e", "f");

  /** Checks the combination, so that a bad flag fails before minutes of measuring. */
  BenchSettings {
    for (String s : systems) {
      if (!ALL_SYSTEMS.contains(s)) {
        throw new IllegalArgumentException("unknown system \"" + s + "\" (known: " + ALL_SYSTEMS + ")");
      }
    }
    if (maxRssMb <= 0) {
      throw new IllegalArgumentException("the memory limit must be positive, got " + maxRssMb);
    }
    if (repetitions < 1) {
      throw new IllegalArgumentException("repetitions must be at least 1, got " + repetitions);
    }
    corpora.forEach((kind, n) -> {
      if (n < 1) {
        throw new IllegalArgumentException("corpus " + kind.label() + " needs at least 1 text, got " + n);
      }
    });
    if (systems.contains("e") && (sparkRows.length == 0 || Arrays.stream(sparkRows).anyMatch(r -> r < 1))) {
      throw new IllegalArgumentException("system e needs positive row counts, got " + Arrays.toString(sparkRows));
    }
    systems = new TreeSet<>(systems);
    corpora = new LinkedHashMap<>(corpora);
    sparkRows = Arrays.stream(sparkRows).sorted().distinct().toArray();
  }

  /** @return texts per corpus label, in run order */
  Map<String, Integer> corpusSizes() {
    Map<String, Integer> out = new LinkedHashMap<>();
    corpora.forEach((kind, n) -> out.put(kind.label(), n));
    return out;
  }

  /** @return the selected systems that encode texts in a worker JVM (a–d), in table order */
  List<String> inProcessSystems() {
    return SystemRegistry.IN_PROCESS.stream().filter(systems::contains).toList();
  }
}

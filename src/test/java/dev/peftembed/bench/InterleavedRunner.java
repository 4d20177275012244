package dev.peftembed.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs every system on every corpus in rounds, interleaved (a b c d on short, a b c d on mixed, …, then the matmul
 * probe), so that drift of a shared, noisy machine hits every system alike. Each system lives in its own worker JVM,
 * idle while the others run. Round 0 is the warm-up: it is not timed, and its vectors are compared with system a's.
 */
final class InterleavedRunner {
  private static final Logger LOG = LoggerFactory.getLogger(InterleavedRunner.class);

  /**
   * @param timings per system id, per corpus label: the timed passes
   * @param similarity per system id, per corpus label: agreement with system a's vectors (empty without system a)
   * @param matmul the timed matmul runs, or {@code null} when f was not selected
   * @param memory per worker id (f included): its memory over the run
   */
  record Result(Map<String, Map<String, Timings>> timings, Map<String, Map<String, Similarity>> similarity,
      Timings matmul, Map<String, WorkerMemory> memory) {}

  /**
   * A worker's resident memory, heap and native together.
   *
   * @param loadedMb once loaded, before any text
   * @param afterWarmUpMb after the warm-up round, every batch shape seen once
   * @param endMb after the last round: more than after the warm-up means memory keeps growing
   * @param peakMb the kernel's peak for the worker process
   */
  record WorkerMemory(double loadedMb, double afterWarmUpMb, double endMb, double peakMb) {}

  private final List<WorkerClient> systems;
  private final List<String> corpora;
  private final WorkerClient matmul;
  private final int repetitions;

  /**
   * @param systems workers of systems a–d, in run order
   * @param corpora corpus labels, in run order
   * @param matmul the matmul worker, or {@code null}
   * @param repetitions timed rounds after the warm-up
   */
  InterleavedRunner(List<WorkerClient> systems, List<String> corpora, WorkerClient matmul, int repetitions) {
    if (repetitions < 1) {
      throw new IllegalArgumentException("at least one repetition, got " + repetitions);
    }
    this.systems = systems;
    this.corpora = corpora;
    this.matmul = matmul;
    this.repetitions = repetitions;
  }

  Result run() {
    Map<String, Map<String, double[]>> seconds = new LinkedHashMap<>();
    for (WorkerClient s : systems) {
      Map<String, double[]> perCorpus = new LinkedHashMap<>();
      corpora.forEach(c -> perCorpus.put(c, new double[repetitions]));
      seconds.put(id(s), perCorpus);
    }
    double[] matmulSeconds = new double[repetitions];
    Map<String, Double> afterWarmUp = new LinkedHashMap<>();
    Path vectors = tempDir();
    for (int round = 0; round <= repetitions; round++) {
      StringBuilder line = new StringBuilder(round == 0 ? "warm-up:" : "round " + round + "/" + repetitions + ":");
      for (String corpus : corpora) {
        line.append(' ').append(corpus);
        for (WorkerClient system : systems) {
          Path file = round == 0 ? vectorFile(vectors, id(system), corpus) : null;
          double s = system.pass(corpus, file).seconds();
          if (round > 0) {
            seconds.get(id(system)).get(corpus)[round - 1] = s;
          }
          line.append(String.format(Locale.ROOT, " %s %.2fs", id(system), s));
        }
      }
      if (matmul != null) {
        double s = matmul.pass("matmul", null).seconds();
        if (round > 0) {
          matmulSeconds[round - 1] = s;
        }
        line.append(String.format(Locale.ROOT, " matmul %.0f GFLOP/s", MatmulPeak.flopsPerRun() / s / 1e9));
      }
      if (round == 0) {
        workers().forEach(w -> afterWarmUp.put(id(w), w.stats().rssMb()));
      }
      LOG.info("{}", line);
    }
    Map<String, WorkerMemory> memory = new LinkedHashMap<>();
    for (WorkerClient w : workers()) {
      SystemWorker.Reply end = w.stats();
      memory.put(id(w), new WorkerMemory(w.ready().rssMb(), afterWarmUp.get(id(w)), end.rssMb(), end.peakRssMb()));
    }
    Result result = new Result(toTimings(seconds), similarity(vectors), matmul == null ? null
        : new Timings(matmulSeconds), memory);
    deleteTree(vectors);
    return result;
  }

  private List<WorkerClient> workers() {
    return matmul == null ? systems : Stream.concat(systems.stream(), Stream.of(matmul)).toList();
  }

  private static String id(WorkerClient w) {
    return w.ready().system();
  }

  private static Map<String, Map<String, Timings>> toTimings(Map<String, Map<String, double[]>> seconds) {
    Map<String, Map<String, Timings>> out = new LinkedHashMap<>();
    seconds.forEach((id, perCorpus) -> {
      Map<String, Timings> t = new LinkedHashMap<>();
      perCorpus.forEach((corpus, s) -> t.put(corpus, new Timings(s)));
      out.put(id, t);
    });
    return out;
  }

  private Map<String, Map<String, Similarity>> similarity(Path vectors) {
    Map<String, Map<String, Similarity>> out = new LinkedHashMap<>();
    if (systems.stream().noneMatch(s -> id(s).equals("a"))) {
      return out;
    }
    try {
      for (WorkerClient system : systems) {
        Map<String, Similarity> perCorpus = new LinkedHashMap<>();
        for (String corpus : corpora) {
          perCorpus.put(corpus, Similarity.between(VectorFile.read(vectorFile(vectors, "a", corpus)),
              VectorFile.read(vectorFile(vectors, id(system), corpus))));
        }
        out.put(id(system), perCorpus);
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the warm-up vectors", e);
    }
  }

  private static Path vectorFile(Path dir, String system, String corpus) {
    return dir.resolve(system + "-" + corpus + ".vectors");
  }

  private static Path tempDir() {
    try {
      return Files.createTempDirectory("peft-embed-bench-vectors");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create a directory for the warm-up vectors", e);
    }
  }

  private static void deleteTree(Path dir) {
    try (var files = Files.list(dir)) {
      for (Path f : files.toList()) {
        Files.delete(f);
      }
      Files.delete(dir);
    } catch (IOException e) {
      LOG.warn("cannot delete {}: {}", dir, e.toString());
    }
  }
}

package dev.peftembed.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Measures what the settings select: systems a–d and the matmul probe f, each in its own worker JVM, interleaved;
 * then the Spark stage (e) in a fresh JVM. Nothing else of the benchmark runs meanwhile, so each step has the machine
 * to itself. This JVM only generates corpora (for their token counts) and counts.
 */
final class BenchRun {
  private static final Logger LOG = LoggerFactory.getLogger(BenchRun.class);
  private static final Duration SPARK_CHILD_TIMEOUT = Duration.ofMinutes(40);
  private static final String SPARK_DESCRIPTION = "our Spark stage, local[" + SparkStageBench.SLOTS + "]";

  /**
   * @param rows every result row: a–d per corpus, f, e per row count
   * @param memory per worker (a–d, f), its resident memory over the run
   * @param spark the Spark child's full result, or {@code null} without e
   */
  record Outcome(List<ResultRow> rows, Map<String, InterleavedRunner.WorkerMemory> memory,
      SparkStageBench.Result spark) {}

  private final BenchSettings settings;
  private final BenchModel model;
  private final CorpusGenerator generator;

  BenchRun(BenchSettings settings) {
    this.settings = settings;
    this.model = BenchModel.resolveDefault();
    this.generator = model.generator(settings.seed());
  }

  Outcome execute() {
    List<ResultRow> rows = new ArrayList<>();
    Map<String, InterleavedRunner.WorkerMemory> memory = interleaved(rows);
    SparkStageBench.Result spark = null;
    if (settings.systems().contains("e")) {
      LOG.info("running the Spark stage on {} rows of the {} corpus", Arrays.toString(settings.sparkRows()),
          settings.sparkCorpus().label());
      spark = ChildJvm.run(SparkStageBench.class, new SparkStageBench.Request(settings.sparkCorpus().label(),
          settings.sparkRows(), settings.repetitions(), settings.seed(), settings.maxRssMb()),
          SparkStageBench.Result.class,
          SPARK_CHILD_TIMEOUT);
      rows.addAll(sparkRows(spark));
    }
    return new Outcome(rows, memory, spark);
  }

  /** Runs a–d and f in their workers; adds their rows; returns their memory. */
  private Map<String, InterleavedRunner.WorkerMemory> interleaved(List<ResultRow> rows) {
    List<String> ids = settings.inProcessSystems();
    boolean matmulSelected = settings.systems().contains(SystemWorker.MATMUL);
    if (ids.isEmpty() && !matmulSelected) {
      return Map.of();
    }
    Map<String, Corpus> corpora = new LinkedHashMap<>();
    settings.corpora().forEach((kind, n) -> corpora.put(kind.label(), generator.corpus(kind, n)));
    Map<String, Integer> sizes = settings.corpusSizes();
    List<WorkerClient> workers = new ArrayList<>();
    WorkerClient matmul = null;
    try {
      for (String id : ids) {
        LOG.info("starting the worker JVM of system {}", id);
        workers.add(WorkerClient.start(new SystemWorker.Start(id, sizes, settings.seed(), settings.maxRssMb())));
      }
      if (matmulSelected) {
        LOG.info("starting the worker JVM of the matmul probe");
        matmul = WorkerClient.start(new SystemWorker.Start(SystemWorker.MATMUL, Map.of(), settings.seed(),
            settings.maxRssMb()));
      }
      LOG.info("running {} on {}: warm-up and {} interleaved rounds", ids, sizes, settings.repetitions());
      InterleavedRunner.Result result = new InterleavedRunner(workers, List.copyOf(corpora.keySet()), matmul,
          settings.repetitions()).run();
      for (WorkerClient w : workers) {
        for (Corpus corpus : corpora.values()) {
          rows.add(row(w.ready(), corpus, result));
        }
      }
      if (matmul != null) {
        Timings t = result.matmul();
        rows.add(new ResultRow(SystemWorker.MATMUL, matmul.ready().description(), "matmul", null, t.count(),
            t.median(), t.min(), t.max(), null, null, null, MatmulPeak.flopsPerRun() / t.median() / 1e9, null, null,
            null, result.memory().get(SystemWorker.MATMUL).peakMb()));
      }
      return result.memory();
    } finally {
      workers.forEach(WorkerClient::close);
      if (matmul != null) {
        matmul.close();
      }
    }
  }

  private ResultRow row(SystemWorker.Ready system, Corpus corpus, InterleavedRunner.Result result) {
    String label = corpus.kind().label();
    Timings t = result.timings().get(system.system()).get(label);
    TokenCount tokens = system.tokens().get(label);
    double median = t.median();
    // FLOPs are counted per text at its own length, so only a system that reads every token can be credited.
    Double gflops = tokens.real() == corpus.totalTokens()
        ? model.flops().total(corpus.tokenLengths()) / median / 1e9 : null;
    Similarity sim = result.similarity().getOrDefault(system.system(), Map.of()).get(label);
    return new ResultRow(system.system(), system.description(), label, (long) corpus.size(), t.count(), median,
        t.min(), t.max(), corpus.size() / median, tokens.real() / median, tokens.paddingEfficiency(), gflops,
        sim == null ? null : sim.mean(), sim == null ? null : sim.min(), null,
        result.memory().get(system.system()).peakMb());
  }

  /** One row per row count; real tokens come from the same generator the tasks ran. */
  private List<ResultRow> sparkRows(SparkStageBench.Result spark) {
    long most = spark.runs().stream().mapToLong(SparkStageBench.Run::rows).max().orElse(0);
    int[] lengths = generator.corpus(settings.sparkCorpus(), Math.toIntExact(most)).tokenLengths();
    List<ResultRow> rows = new ArrayList<>();
    for (SparkStageBench.Run run : spark.runs()) {
      long tokens = 0;
      for (int i = 0; i < run.rows(); i++) {
        tokens += lengths[i];
      }
      rows.add(new ResultRow("e", SPARK_DESCRIPTION, settings.sparkCorpus().label(), run.rows(), 1,
          run.stageSeconds(), null, null, run.rowsPerSecond(), tokens / run.stageSeconds(), null, null, null, null,
          run.baselineSeconds(), run.peakRssMb()));
    }
    return rows;
  }
}

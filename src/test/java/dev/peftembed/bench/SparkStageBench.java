package dev.peftembed.bench;

import dev.peftembed.spark.PeftEmbedder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.apache.spark.api.java.function.MapFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Child JVM, system e: our Spark stage end to end on local[2], the default model, texts generated inside the tasks.
 *
 * <p>Each row count is one job that writes every embedding to Spark's {@code noop} sink (all rows computed, nothing
 * stored). Its stage time is the job time minus the median of empty jobs: the same generated input written to the
 * same sink without the stage, so that scheduling and text generation are not counted as embedding. A first job,
 * not counted, loads the model into the executor's cache, as the first job of an application would.
 *
 * <p>In local mode the driver is the executor, so this JVM's resident memory is the executor's: sampled during each
 * job, its peak should stay flat as rows grow, because partitions stream through the encoder in windows.
 */
public final class SparkStageBench {
  private static final Logger LOG = LoggerFactory.getLogger(SparkStageBench.class);

  /** Spark's local slots: the local[2]. */
  static final int SLOTS = 2;

  /** The most rows per partition; more rows get more partitions, as a larger input would have more splits. */
  static final int MAX_PARTITION_ROWS = 10_000;

  /**
   * @param corpus the corpus label the rows are drawn from
   * @param rows the row counts to run, each once, in the order given
   * @param baselineRepetitions empty jobs per row count; their median is subtracted
   * @param seed the corpus seed
   * @param maxRssMb the resident memory past which this JVM stops itself
   */
  public record Request(String corpus, long[] rows, int baselineRepetitions, long seed, double maxRssMb) {}

  /**
   * @param rows rows embedded
   * @param partitions input partitions
   * @param jobSeconds the whole job
   * @param baselineSeconds the median empty job at the same row count
   * @param peakRssMb the process's peak resident memory during the job
   * @param rssAfterMb resident memory when the job had finished
   * @param heapCommittedMb the Java heap the JVM had committed when the job had finished: the part of the resident
   *     memory that is heap, which grows on demand up to -Xmx and is not a leak
   */
  public record Run(long rows, int partitions, double jobSeconds, double baselineSeconds, double peakRssMb,
      double rssAfterMb, double heapCommittedMb) {

    /** @return the stage's own time: job minus empty job, never below a millisecond */
    public double stageSeconds() {
      return Math.max(1e-3, jobSeconds - baselineSeconds);
    }

    /** @return rows per second of stage time */
    public double rowsPerSecond() {
      return rows / stageSeconds();
    }
  }

  /**
   * @param firstJobSeconds the uncounted first job, model load included
   * @param firstJobRows its rows
   * @param runs one per requested row count
   * @param peakRssMb the kernel's peak resident memory of this JVM over everything
   */
  public record Result(double firstJobSeconds, long firstJobRows, List<Run> runs, double peakRssMb) {}

  private SparkStageBench() {}

  /** Entry point of the child JVM: {@code SparkStageBench REQUEST.json RESULT.json}. */
  public static void main(String[] args) {
    ChildJvm.serve(args, Request.class, SparkStageBench::measure);
  }

  static Result measure(Request request) {
    MemoryGuard.watch(request.maxRssMb(), "the Spark stage (system e)");
    CorpusKind kind = CorpusKind.parse(request.corpus());
    CorpusGenerator generator = BenchModel.resolveDefault().generator(request.seed());
    SparkSession spark = SparkSession.builder()
        .master("local[" + SLOTS + "]")
        .appName("peft-embed-bench")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .getOrCreate();
    try (RssSampler sampler = new RssSampler(50)) {
      PeftEmbedder stage = new PeftEmbedder().setInputCol("text").setOutputCol("embedding");
      long firstRows = Arrays.stream(request.rows()).min().orElse(1000);
      double first = seconds(() -> writeNoop(stage.transform(input(spark, generator, kind, firstRows))));
      LOG.info("{}", String.format(Locale.ROOT, "first job (%d rows, model load included): %.1f s", firstRows, first));
      List<Run> runs = new ArrayList<>();
      for (long rows : request.rows()) {
        Dataset<Row> in = input(spark, generator, kind, rows);
        double[] empty = new double[request.baselineRepetitions()];
        for (int i = 0; i < empty.length; i++) {
          empty[i] = seconds(() -> writeNoop(in));
        }
        sampler.reset();
        double job = seconds(() -> writeNoop(stage.transform(in)));
        Run run = new Run(rows, in.rdd().getNumPartitions(), job, new Timings(empty).median(), sampler.peakMb(),
            ProcessMemory.rssMb(), Runtime.getRuntime().totalMemory() / (1024.0 * 1024.0));
        LOG.info("{}", String.format(Locale.ROOT,
            "%d rows: job %.2f s, empty job %.2f s, %.0f rows/s, peak RSS %.0f MiB", rows, job,
            run.baselineSeconds(), run.rowsPerSecond(), run.peakRssMb()));
        runs.add(run);
      }
      return new Result(first, firstRows, runs, ProcessMemory.peakRssMb());
    } finally {
      spark.stop();
    }
  }

  /** Rows 0..n−1 of the corpus as a one-column {@code text} table, generated inside the tasks. */
  static Dataset<Row> input(SparkSession spark, CorpusGenerator generator, CorpusKind kind, long rows) {
    int partitions = (int) Math.max(SLOTS, (rows + MAX_PARTITION_ROWS - 1) / MAX_PARTITION_ROWS);
    return spark.range(0, rows, 1, partitions)
        .map((MapFunction<Long, String>) i -> generator.text(kind, i), Encoders.STRING())
        .toDF("text");
  }

  private static void writeNoop(Dataset<Row> data) {
    data.write().format("noop").mode("overwrite").save();
  }

  private static double seconds(Runnable job) {
    long start = System.nanoTime();
    job.run();
    return (System.nanoTime() - start) / 1e9;
  }
}

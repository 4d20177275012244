package dev.peftembed.join;

import dev.peftembed.job.InputFormat;
import dev.peftembed.job.InputTable;
import dev.peftembed.job.OutputFormat;
import dev.peftembed.job.OutputLocation;
import java.io.IOException;
import java.util.Locale;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import static org.apache.spark.sql.functions.col;

/**
 * The {@code similar} job: read one or two embedding tables (as {@code embed} writes them), join them or cluster
 * near-duplicates, write the result, and report what happened.
 */
public final class SimilarityJob {
  private static final Logger LOG = LoggerFactory.getLogger(SimilarityJob.class);

  /**
   * One run.
   *
   * @param left a file or directory, local or on any Hadoop file system
   * @param right the other table, or {@code null} (or the same path) for a self-join
   * @param inputFormat parquet or jsonl for both inputs, or {@code null} to detect each
   * @param options columns, selection and method
   * @param dedup the near-duplicate threshold, or {@code null} to join instead
   * @param output where to write
   * @param outputFormat parquet or jsonl
   * @param mode error, overwrite or append
   */
  public record Request(String left, String right, InputFormat inputFormat, JoinOptions options, Double dedup,
      String output, OutputFormat outputFormat, SaveMode mode) {}

  private SimilarityJob() {}

  /**
   * Runs the job. Inputs, columns, options and the output location are checked before the join starts.
   *
   * @throws IllegalArgumentException for bad inputs, columns, options or output mode
   */
  public static SimilaritySummary run(SparkSession spark, Request r) {
    long start = System.nanoTime();
    Configuration hadoop = spark.sparkContext().hadoopConfiguration();
    boolean self = r.right() == null || samePath(r.left(), r.right(), hadoop);
    boolean dedup = r.dedup() != null;
    if (dedup && !self) {
      throw new IllegalArgumentException("--dedup clusters one table: leave out --right");
    }
    if (dedup && !(r.dedup() >= -1 && r.dedup() <= 1)) {
      throw new IllegalArgumentException("the dedup threshold is a cosine similarity in [-1, 1], got " + r.dedup());
    }
    if (!dedup) {
      r.options().requireSelection();
    }
    if (r.outputFormat() == OutputFormat.DELTA) {
      throw new IllegalArgumentException("similar writes parquet or jsonl, not delta");
    }
    OutputLocation.refuseExisting(r.output(), r.mode(), hadoop);
    Dataset<Row> left = read(spark, r.left(), r.inputFormat(), hadoop);
    Dataset<Row> right = self ? left : read(spark, r.right(), r.inputFormat(), hadoop);
    long before = r.mode() == SaveMode.Append ? writtenRows(spark, r, hadoop) : 0;

    if (dedup) {
      ClusterResult c = SimilarityJoin.nearDuplicates(left, r.dedup(), r.options());
      write(c.clusters(), r);
      long clusters = c.clusters().select(col("cluster_id")).distinct().count();
      return new SimilaritySummary("dedup", r.options().method(), c.plan(), c.pairs(), clusters,
          writtenRows(spark, r, hadoop) - before, c.rows(), c.rows(), c.skippedRows(), seconds(start));
    }
    try (JoinResult j = self ? SimilarityJoin.selfJoin(left, r.options())
        : SimilarityJoin.join(left, right, r.options())) {
      write(j.pairs(), r);
      return new SimilaritySummary("join", r.options().method(), j.plan(), writtenRows(spark, r, hadoop) - before,
          0, 0, j.leftRows(), j.rightRows(), j.skippedRows(), seconds(start));
    }
  }

  private static Dataset<Row> read(SparkSession spark, String path, InputFormat given, Configuration hadoop) {
    InputFormat format = given != null ? given : InputFormat.detect(path, hadoop);
    if (format != InputFormat.PARQUET && format != InputFormat.JSONL) {
      throw new IllegalArgumentException(path + ": similar reads parquet or jsonl embeddings, not "
          + format.name().toLowerCase(Locale.ROOT));
    }
    return InputTable.read(spark, path, format, "text");
  }

  private static void write(Dataset<Row> rows, Request r) {
    LOG.info("writing {} ({}, mode {})", r.output(), r.outputFormat(), r.mode());
    var writer = rows.write().mode(r.mode());
    if (r.outputFormat() == OutputFormat.PARQUET) {
      writer.parquet(r.output());
    } else {
      writer.json(r.output());
    }
  }

  private static boolean samePath(String a, String b, Configuration hadoop) {
    try {
      Path pa = new Path(a);
      Path pb = new Path(b);
      return pa.getFileSystem(hadoop).makeQualified(pa).equals(pb.getFileSystem(hadoop).makeQualified(pb));
    } catch (IOException e) {
      throw new IllegalArgumentException(a + ", " + b + ": cannot resolve the inputs: " + e.getMessage(), e);
    }
  }

  /** Rows in the output as committed (0 when there is none), read back from the files, never recomputed. */
  private static long writtenRows(SparkSession spark, Request r, Configuration hadoop) {
    if (!OutputLocation.exists(r.output(), hadoop)) {
      return 0;
    }
    // JSON lines: one row per line.
    return r.outputFormat() == OutputFormat.PARQUET ? spark.read().parquet(r.output()).count()
        : spark.read().text(r.output()).count();
  }

  private static double seconds(long start) {
    return (System.nanoTime() - start) / 1e9;
  }
}

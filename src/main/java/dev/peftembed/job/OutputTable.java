package dev.peftembed.job;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;

/**
 * The embed job's output table: written so that a job that fails leaves readers what was there before, and read
 * back.
 */
public final class OutputTable {
  /** How long a failed job's killed tasks get to stop before the cleanup. */
  private static final long DRAIN_TIMEOUT_MS = 60_000;

  private OutputTable() {}

  /**
   * Writes Parquet and JSON lines through an {@link OutputPublication}, Delta through its own transaction log (a
   * staged directory renamed over a table would lose its history). Run it in {@link JobGroup#EMBED}: after a failure
   * the tasks of that group are waited for before the staged files are deleted.
   */
  static void write(SparkSession spark, Dataset<Row> rows, OutputFormat format, SaveMode mode, String output) {
    if (format == OutputFormat.DELTA) {
      commit(rows, format, mode, output);
      return;
    }
    OutputPublication publication = OutputPublication.of(output, mode,
        spark.sparkContext().applicationId() + "-" + System.currentTimeMillis(),
        spark.sparkContext().hadoopConfiguration());
    boolean written = false;
    try {
      commit(rows, format, publication.writeMode(), publication.writePath());
      written = true;
    } finally {
      // Spark's own exceptions are checked ones thrown from Scala: a catch clause would miss them.
      if (!written) {
        JobGroupDrain.await(spark, JobGroup.EMBED, DRAIN_TIMEOUT_MS);
        publication.discard();
      }
    }
    publication.publish();
  }

  /** Writes through Spark's commit protocol (Delta's transaction log for delta). */
  private static void commit(Dataset<Row> rows, OutputFormat format, SaveMode mode, String output) {
    var writer = rows.write().mode(mode);
    switch (format) {
      case PARQUET -> writer.parquet(output);
      case JSONL -> writer.json(output);
      // A rebuild may add or drop columns (a full output becoming an incremental one): the new schema wins.
      case DELTA -> writer.format("delta").option("overwriteSchema", mode == SaveMode.Overwrite).save(output);
    }
  }

  /**
   * Reads a written output back.
   *
   * @param schema the schema the job writes: JSON lines are read with it, so types survive the round trip; or
   *     {@code null} to infer it
   */
  public static Dataset<Row> read(SparkSession spark, OutputFormat format, String output, StructType schema) {
    return switch (format) {
      case PARQUET -> spark.read().parquet(output);
      case JSONL -> schema == null ? spark.read().json(output) : spark.read().schema(schema).json(output);
      case DELTA -> spark.read().format("delta").load(output);
    };
  }
}

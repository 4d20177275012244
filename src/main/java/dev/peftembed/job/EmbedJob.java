package dev.peftembed.job;

import dev.peftembed.spark.PeftEmbedder;
import dev.peftembed.embed.NamedAdapters;
import java.util.List;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import static org.apache.spark.sql.functions.col;

/**
 * The {@code embed} job: read a table of texts, embed it with a {@link PeftEmbedder}, write id, embedding,
 * num_tokens and truncated, and report what happened. Everything that can be checked on the driver (input, output
 * mode, model, adapter, options) is checked before the first embedding task starts.
 */
public final class EmbedJob {
  private static final Logger LOG = LoggerFactory.getLogger(EmbedJob.class);

  /**
   * One run of the job.
   *
   * @param input a file or directory, local or on any Hadoop file system
   * @param inputFormat the format, or {@code null} to detect it
   * @param textCol the column holding the texts
   * @param idCol the id column; generated (stable for the same input files) when the input has none
   * @param output where to write
   * @param outputFormat parquet, jsonl or delta
   * @param mode error, overwrite or append; with {@code incremental}, overwrite re-embeds every row
   * @param stage the configured stage: model, adapter and encoding options
   * @param progressSeconds how often to log progress
   * @param incremental embed only rows whose id is new or whose text changed, and update the output in place
   *     ({@link IncrementalEmbed})
   * @param keepDeleted with {@code incremental}, keep output rows whose id is gone from the input instead of
   *     deleting them
   * @param partitions how many partitions the rows to embed are spread over
   */
  public record Request(String input, InputFormat inputFormat, String textCol, String idCol, String output,
      OutputFormat outputFormat, SaveMode mode, PeftEmbedder stage, long progressSeconds, boolean incremental,
      boolean keepDeleted, Partitions partitions) {

    /** A run with {@link Partitions#AUTO}. */
    public Request(String input, InputFormat inputFormat, String textCol, String idCol, String output,
        OutputFormat outputFormat, SaveMode mode, PeftEmbedder stage, long progressSeconds, boolean incremental,
        boolean keepDeleted) {
      this(input, inputFormat, textCol, idCol, output, outputFormat, mode, stage, progressSeconds, incremental,
          keepDeleted, Partitions.AUTO);
    }

    /** A full (not incremental) run with {@link Partitions#AUTO}. */
    public Request(String input, InputFormat inputFormat, String textCol, String idCol, String output,
        OutputFormat outputFormat, SaveMode mode, PeftEmbedder stage, long progressSeconds) {
      this(input, inputFormat, textCol, idCol, output, outputFormat, mode, stage, progressSeconds, false, false);
    }
  }

  private EmbedJob() {}

  /**
   * Runs the job.
   *
   * @throws IllegalArgumentException for bad input, columns or output mode
   * @throws dev.peftembed.model.ModelFormatException for a bad model or adapter
   */
  public static JobSummary run(SparkSession spark, Request r) {
    long start = System.nanoTime();
    Configuration hadoop = spark.sparkContext().hadoopConfiguration();
    if (r.outputFormat() == OutputFormat.DELTA) {
      DeltaLake.requireSession(spark);
    }
    InputFormat format = r.inputFormat() != null ? r.inputFormat() : InputFormat.detect(r.input(), hadoop);
    Dataset<Row> source = InputTable.read(spark, r.input(), format, r.textCol());
    PeftEmbedder stage = r.stage().copy(new org.apache.spark.ml.param.ParamMap())
        .setInputCol(r.textCol()).setOutputCol("embedding").setNumTokensCol("num_tokens").setTruncatedCol("truncated");
    Set<String> adapters = NamedAdapters.parse(List.of(stage.getAdapters())).keySet();
    String adapterCol = adapters.isEmpty() ? null : stage.getAdapterCol();
    if (r.incremental()) {
      if (adapterCol != null) {
        // The output keeps a hash of each text, not the adapter that embedded it: a row moved to another adapter
        // would look unchanged.
        throw new IllegalArgumentException("--incremental takes one adapter for every row, not named adapters");
      }
      return IncrementalEmbed.run(spark, r, source, stage, start);
    }
    OutputLocation.refuseExisting(r.output(), r.mode(), hadoop);
    Dataset<Row> table = InputTable.withId(source, r.idCol(), r.textCol(), adapterCol);
    // Before any job: the model, adapter and options are checked on the driver. The rows to embed are spread once
    // they are counted.
    stage.validate(table);
    TextKindCounts kinds = JobGroup.COUNT.run(spark, "count input rows",
        () -> TextKindCounts.of(table, r.textCol(), adapterCol, adapters));
    long rowsIn = kinds.rows();
    // After withId: generated ids come from the input's own order, which the spread does not keep.
    Dataset<Row> embedded = stage.transform(r.partitions().spread(table, rowsIn)).select(col(r.idCol()).as("id"),
        col("embedding"), col("num_tokens"), col("truncated"));

    OutputCounts before = r.mode() == SaveMode.Append
        ? OutputCounts.ofWritten(spark, r.outputFormat(), r.output(), embedded.schema()) : OutputCounts.NONE;
    LOG.info("embedding {} rows of {} ({}) into {} ({}, mode {})", rowsIn, r.input(), format, r.output(),
        r.outputFormat(), r.mode());
    int executors = JobGroup.EMBED.run(spark, "embed and write", () -> {
      try (ProgressReporter progress = new ProgressReporter(spark.sparkContext(), JobGroup.EMBED.id(), rowsIn,
          r.progressSeconds())) {
        OutputTable.write(spark, embedded, r.outputFormat(), r.mode(), r.output());
        return progress.executors();
      }
    });
    OutputCounts after = OutputCounts.ofWritten(spark, r.outputFormat(), r.output(), embedded.schema());
    double seconds = (System.nanoTime() - start) / 1e9;
    long rowsOut = after.rows() - before.rows();
    long embeddedOut = after.embedded() - before.embedded();
    return new JobSummary(rowsIn, rowsOut, embeddedOut, kinds.nullText(), after.truncated() - before.truncated(),
        stage.modelLoads(), executors, seconds, kinds.badRows(rowsOut, embeddedOut));
  }
}

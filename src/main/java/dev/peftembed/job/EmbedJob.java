package dev.peftembed.job;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import dev.peftembed.spark.PeftEmbedder;
import java.util.Arrays;
import java.util.function.Supplier;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code embed} job: read a table of texts, embed it with a {@link PeftEmbedder}, write id, embedding,
 * num_tokens and truncated, and report what happened. Everything that can be checked on the driver (input, output
 * mode, model, adapter, options) is checked before the first embedding task starts.
 */
public final class EmbedJob {
  private static final Logger LOG = LoggerFactory.getLogger(EmbedJob.class);
  static final String JOB_GROUP = "peft-embed-embed";
  /** The group of the driver's counting and checking jobs that read the input or an existing output. */
  static final String COUNT_GROUP = "peft-embed-count";
  /** The group of the jobs that read the committed output back for the summary. */
  static final String VERIFY_GROUP = "peft-embed-verify";
  /** How long a failed job's killed tasks get to stop before the cleanup. */
  private static final long DRAIN_TIMEOUT_MS = 60_000;

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
    Dataset<Row> source = read(spark, r.input(), format, r.textCol());
    PeftEmbedder stage = r.stage().copy(new org.apache.spark.ml.param.ParamMap())
        .setInputCol(r.textCol()).setOutputCol("embedding").setNumTokensCol("num_tokens").setTruncatedCol("truncated");
    if (r.incremental()) {
      return IncrementalEmbed.run(spark, r, source, stage, start);
    }
    OutputLocation.refuseExisting(r.output(), r.mode(), hadoop);
    Dataset<Row> table = withId(source, r.idCol(), r.textCol());
    // Before any job: the model, adapter and options are checked on the driver. The rows to embed are spread once
    // they are counted.
    stage.validate(table);
    TextKinds kinds = inJobGroup(spark, COUNT_GROUP, "count input rows", () -> TextKinds.of(table, r.textCol()));
    long rowsIn = kinds.rows();
    // After withId: generated ids come from the input's own order, which the spread does not keep.
    Dataset<Row> embedded = stage.transform(r.partitions().spread(table, rowsIn)).select(col(r.idCol()).as("id"),
        col("embedding"), col("num_tokens"), col("truncated"));

    Counts before = r.mode() == SaveMode.Append ? Counts.of(spark, r, embedded.schema(), hadoop) : Counts.NONE;
    LOG.info("embedding {} rows of {} ({}) into {} ({}, mode {})", rowsIn, r.input(), format, r.output(),
        r.outputFormat(), r.mode());
    spark.sparkContext().setJobGroup(JOB_GROUP, "embed and write", false);
    int executors;
    try (ProgressReporter progress = new ProgressReporter(spark.sparkContext(), JOB_GROUP, rowsIn,
        r.progressSeconds())) {
      writeVisible(spark, embedded, r.outputFormat(), r.mode(), r.output());
      executors = progress.executors();
    } finally {
      spark.sparkContext().clearJobGroup();
    }
    Counts after = Counts.of(spark, r, embedded.schema(), hadoop);
    double seconds = (System.nanoTime() - start) / 1e9;
    long rowsOut = after.rows - before.rows;
    long embeddedOut = after.embedded - before.embedded;
    return new JobSummary(rowsIn, rowsOut, embeddedOut, kinds.nullText(), after.truncated - before.truncated,
        stage.modelLoads(), executors, seconds, kinds.badRows(rowsOut, embeddedOut));
  }

  /**
   * Writes so that a job that fails leaves readers what was there before: Parquet and JSON lines through an
   * {@link OutputPublication}, Delta through its own transaction log (a staged directory renamed over a table would
   * lose its history). Run it in the {@link #JOB_GROUP} job group.
   */
  static void writeVisible(SparkSession spark, Dataset<Row> rows, OutputFormat format, SaveMode mode, String output) {
    if (format == OutputFormat.DELTA) {
      write(rows, format, mode, output);
      return;
    }
    OutputPublication publication = OutputPublication.plan(output, mode,
        spark.sparkContext().applicationId() + "-" + System.currentTimeMillis(),
        spark.sparkContext().hadoopConfiguration());
    boolean written = false;
    try {
      write(rows, format, publication.writeMode(), publication.writePath());
      written = true;
    } finally {
      // Spark's own exceptions are checked ones thrown from Scala: a catch clause would miss them.
      if (!written) {
        JobGroupDrain.await(spark, JOB_GROUP, DRAIN_TIMEOUT_MS);
        publication.discard();
      }
    }
    publication.publish();
  }

  /** Writes through Spark's commit protocol (Delta's transaction log for delta). */
  private static void write(Dataset<Row> rows, OutputFormat format, SaveMode mode, String output) {
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
  public static Dataset<Row> readOutput(SparkSession spark, OutputFormat format, String output, StructType schema) {
    return switch (format) {
      case PARQUET -> spark.read().parquet(output);
      case JSONL -> schema == null ? spark.read().json(output) : spark.read().schema(schema).json(output);
      case DELTA -> spark.read().format("delta").load(output);
    };
  }

  /**
   * Runs driver-side actions in a job group, then clears it even when they fail: the group belongs to the calling
   * thread, and a host application's later jobs on that thread must not inherit (or be cancelled with) ours.
   */
  static <T> T inJobGroup(SparkSession spark, String group, String description, Supplier<T> actions) {
    spark.sparkContext().setJobGroup(group, description, false);
    try {
      return actions.get();
    } finally {
      spark.sparkContext().clearJobGroup();
    }
  }

  /**
   * Reads a table the way {@code embed} reads its input; {@code similar} reads its inputs with it too.
   *
   * @param textCol the column a plain-text input's lines go to
   */
  public static Dataset<Row> read(SparkSession spark, String input, InputFormat format, String textCol) {
    return switch (format) {
      case JSONL -> spark.read().json(input);
      case PARQUET -> spark.read().parquet(input);
      case CSV -> spark.read().option("header", "true").option("multiLine", "true").option("escape", "\"")
          .csv(input);
      case TEXT -> spark.read().text(input).withColumnRenamed("value", textCol);
    };
  }

  /**
   * Adds an id when the input has none: the row's position in the input, which is stable for the same input files
   * and split settings (Spark orders partitions by file and offset).
   */
  static Dataset<Row> withId(Dataset<Row> table, String idCol, String textCol) {
    if (Arrays.asList(table.columns()).contains(idCol)) {
      return table;
    }
    LOG.info("input has no column \"{}\": ids are generated from row positions", idCol);
    Dataset<Row> texts = Arrays.asList(table.columns()).contains(textCol) ? table.select(textCol) : table;
    StructType schema = texts.schema().add(idCol, DataTypes.LongType, false);
    JavaRDD<Row> rows = texts.javaRDD().zipWithIndex().map(t -> {
      Object[] values = new Object[t._1().size() + 1];
      for (int i = 0; i < t._1().size(); i++) {
        values[i] = t._1().get(i);
      }
      values[values.length - 1] = t._2();
      return RowFactory.create(values);
    });
    return table.sparkSession().createDataFrame(rows, schema);
  }

  /** Row counts of a written output, from its cheap columns only (never the vectors). */
  record Counts(long rows, long embedded, long truncated) {
    static final Counts NONE = new Counts(0, 0, 0);

    static Counts of(SparkSession spark, Request r, StructType schema, Configuration hadoop) {
      if (!OutputLocation.exists(r.output(), hadoop)) {
        return NONE;
      }
      return inJobGroup(spark, VERIFY_GROUP, "count written rows",
          () -> of(readOutput(spark, r.outputFormat(), r.output(), schema)));
    }

    /** Counts from the cheap columns only (never the vectors). */
    static Counts of(Dataset<Row> rows) {
      Row c = rows.agg(count(lit(1)), count(col("num_tokens")),
          sum(when(col("truncated"), 1).otherwise(0))).first();
      return new Counts(c.getLong(0), c.getLong(1), c.isNullAt(2) ? 0 : c.getLong(2));
    }
  }
}

package dev.peftembed.job;

import dev.peftembed.spark.PeftEmbedder;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.countDistinct;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.not;
import static org.apache.spark.sql.functions.sha2;
import static org.apache.spark.sql.functions.when;

/**
 * {@code embed --incremental}: embeds only the rows whose id is new or whose text changed since the output was
 * written, and brings the output in step with the input. Running it again on the same input changes nothing: no
 * row is embedded and the output is not rewritten (no new files, no Delta commit).
 *
 * <p>An incremental output has two more columns than a full one: {@code text_sha256}, the SHA-256 of the text's
 * UTF-8 bytes (null for a null text), which tells a changed text apart, and {@code embedder}, the
 * {@link EmbedderFingerprint} of the model and options. A run with another fingerprint is refused: re-embedding
 * every row (with {@code --mode overwrite}) or writing elsewhere is the user's call, never a silent mix.
 *
 * <p>Rows whose id is gone from the input are deleted, so that the output mirrors its source, unless
 * {@code keepDeleted}. Ids must be present, non-null and unique.
 *
 * <p>Parquet and JSON lines outputs are rewritten as a whole (unchanged rows copied, not re-embedded) beside the old
 * version and swapped in by an {@link OutputPublication}, so a failed run leaves the old output; a Delta output gets
 * one MERGE on id.
 */
final class IncrementalEmbed {
  private static final Logger LOG = LoggerFactory.getLogger(IncrementalEmbed.class);
  static final String HASH = "text_sha256";
  static final String EMBEDDER = "embedder";
  private static final String ID = "id";
  private static final String TEXT = "text";
  private static final String KEY_ID = "_key_id";
  private static final String KEY_HASH = "_key_sha256";
  private static final String DELETE = "_delete";
  /** The description of the jobs that write the new version of the output. */
  static final String REWRITE = "update the output";

  private final SparkSession spark;
  private final EmbedJob.Request r;
  private final PeftEmbedder stage;
  /** The input's id, text and text hash, under the output's column names. */
  private final Dataset<Row> input;
  private final String embedder;
  private final StructType outputSchema;
  private final long start;

  private IncrementalEmbed(SparkSession spark, EmbedJob.Request r, PeftEmbedder stage, Dataset<Row> input,
      String embedder, StructType outputSchema, long start) {
    this.spark = spark;
    this.r = r;
    this.stage = stage;
    this.input = input;
    this.embedder = embedder;
    this.outputSchema = outputSchema;
    this.start = start;
  }

  static JobSummary run(SparkSession spark, EmbedJob.Request r, Dataset<Row> source, PeftEmbedder configured,
      long start) {
    if (r.mode() == SaveMode.Append) {
      throw new IllegalArgumentException("--incremental updates the output in place: use --mode error (the default) "
          + "or overwrite (re-embed every row), not append");
    }
    if (!Arrays.asList(source.columns()).contains(r.idCol())) {
      throw new IllegalArgumentException(r.input() + ": --incremental needs an id column \"" + r.idCol() + "\" "
          + "(generated row positions are not stable when the input changes)");
    }
    PeftEmbedder stage = configured.copy(new org.apache.spark.ml.param.ParamMap()).setInputCol(TEXT);
    stage.transformSchema(source.withColumnRenamed(r.textCol(), TEXT).schema());
    Dataset<Row> input = source.select(col(r.idCol()).as(ID), col(r.textCol()).as(TEXT),
        sha2(col(r.textCol()), 256).as(HASH));
    Configuration hadoop = spark.sparkContext().hadoopConfiguration();
    // Transformed first: it validates the model, adapter and options, so a bad directory fails with its own message.
    Dataset<Row> vectors = stage.transform(input);
    String embedder = EmbedderFingerprint.of(stage, hadoop);
    boolean exists = exists(spark, r, hadoop);
    IncrementalEmbed job = new IncrementalEmbed(spark, r, stage, input, embedder,
        outputColumns(vectors, embedder).schema(), start);
    long rowsIn = job.checkIds();
    return exists && r.mode() != SaveMode.Overwrite ? job.merge(rowsIn) : job.rebuild(rowsIn, exists);
  }

  /** Embeds every input row and writes them as the whole output. */
  private JobSummary rebuild(long rowsIn, boolean exists) {
    LOG.info("{}: {} output, embedding all {} rows", r.output(), exists ? "rebuilding the" : "no", rowsIn);
    TextKindCounts kinds = textKinds(input);
    Dataset<Row> rebuilt = embed(r.partitions().spread(input, rowsIn));
    Pass written = embedding(rowsIn, () -> {
      OutputTable.write(spark, rebuilt, r.outputFormat(), r.mode(), r.output());
      return JobGroup.VERIFY.run(spark, "count written rows",
          () -> OutputCounts.of(OutputTable.read(spark, r.outputFormat(), r.output(), outputSchema)));
    });
    return summary(rowsIn, written.counts().rows(), written, kinds, new JobSummary.Changes(rowsIn, 0, 0, 0));
  }

  /**
   * Compares the input with the existing output, embeds the new and changed rows, and brings the output in step;
   * writes nothing when nothing changed.
   */
  private JobSummary merge(long rowsIn) {
    Dataset<Row> existing = OutputTable.read(spark, r.outputFormat(), r.output(), outputSchema);
    checkEmbedder(existing);
    Dataset<Row> keys = input.select(col(ID).as(KEY_ID), col(HASH).as(KEY_HASH));
    Column sameId = col(ID).equalTo(col(KEY_ID));
    Column sameText = col(HASH).eqNullSafe(col(KEY_HASH));
    JobSummary.Changes changes = compare(keys, existing, sameId, sameText);
    LOG.info("{}: {} new, {} changed, {} unchanged, {} to delete", r.output(), changes.rowsNew(),
        changes.rowsChanged(), changes.rowsUnchanged(), changes.rowsDeleted());
    long kept = changes.rowsUnchanged() + (r.keepDeleted() ? goneCount(existing, keys, sameId) : 0);
    if (!changes.any()) {
      return summary(rowsIn, kept, new Pass(OutputCounts.NONE, 0), TextKindCounts.NONE, changes);
    }

    Dataset<Row> toEmbed = input.join(existing.select(col(ID).as(KEY_ID), col(HASH).as(KEY_HASH)),
        col(ID).equalTo(col(KEY_ID)), "left_outer")
        .where(col(KEY_ID).isNull().or(not(col(HASH).eqNullSafe(col(KEY_HASH)))))
        .select(ID, TEXT, HASH);
    long rowsToEmbed = changes.rowsNew() + changes.rowsChanged();
    TextKindCounts kinds = rowsToEmbed == 0 ? TextKindCounts.NONE : textKinds(toEmbed);
    // Kept for the write after the counting job: the vectors are computed once.
    Dataset<Row> fresh = embed(r.partitions().spreadShuffled(toEmbed, rowsToEmbed))
        .persist(StorageLevel.MEMORY_AND_DISK());
    try {
      Pass embedded = embedding(rowsToEmbed, () -> OutputCounts.of(fresh));
      JobGroup.EMBED.run(spark, REWRITE, () -> update(existing, keys, fresh, sameId, sameText));
      long rowsOut = JobGroup.VERIFY.run(spark, "count written rows",
          () -> OutputTable.read(spark, r.outputFormat(), r.output(), outputSchema).count());
      return summary(rowsIn, rowsOut, embedded, kinds, changes);
    } finally {
      fresh.unpersist();
    }
  }

  /**
   * Writes the new version of the output: one MERGE on id for Delta; for the others, the rows kept from the existing
   * output and the fresh ones, swapped in as a whole.
   */
  private void update(Dataset<Row> existing, Dataset<Row> keys, Dataset<Row> fresh, Column sameId,
      Column sameText) {
    if (r.outputFormat() == OutputFormat.DELTA) {
      Dataset<Row> upserts = fresh.withColumn(DELETE, lit(false));
      Dataset<Row> deletes = existing.select(ID).join(keys, sameId, "left_anti").withColumn(DELETE, lit(true));
      DeltaLake.merge(spark, r.output(), r.keepDeleted() ? upserts : upserts.unionByName(deletes, true), DELETE);
    } else {
      Dataset<Row> carried = r.keepDeleted()
          ? existing.join(keys, sameId.and(not(sameText)), "left_anti")
          : existing.join(keys, sameId.and(sameText), "left_semi");
      OutputTable.write(spark, carried.unionByName(fresh), r.outputFormat(), SaveMode.Overwrite, r.output());
    }
  }

  /** The rows with their embedding, hash and fingerprint, in the column order of an incremental output. */
  private Dataset<Row> embed(Dataset<Row> rows) {
    return outputColumns(stage.transform(rows), embedder);
  }

  private static Dataset<Row> outputColumns(Dataset<Row> transformed, String embedder) {
    return transformed.select(col(ID), col("embedding"), col("num_tokens"), col("truncated"), col(HASH),
        lit(embedder).as(EMBEDDER));
  }

  private static boolean exists(SparkSession spark, EmbedJob.Request r, Configuration hadoop) {
    if (!OutputLocation.exists(r.output(), hadoop)) {
      return false;
    }
    if (r.outputFormat() == OutputFormat.DELTA && !DeltaLake.isTable(spark, r.output())) {
      throw new IllegalArgumentException(r.output() + ": exists and is not a Delta table");
    }
    return true;
  }

  /** Counts the input and checks that its ids can key an upsert. */
  private long checkIds() {
    Row c = JobGroup.COUNT.run(spark, "count input rows and ids",
        () -> input.agg(count(lit(1)), countDistinct(col(ID)), count(when(col(ID).isNull(), 1))).first());
    if (c.getLong(2) > 0) {
      throw new IllegalArgumentException(r.input() + ": " + c.getLong(2) + " rows have a null \"" + r.idCol()
          + "\"; --incremental needs every row to have an id");
    }
    if (c.getLong(1) != c.getLong(0)) {
      throw new IllegalArgumentException(r.input() + ": \"" + r.idCol() + "\" is not unique (" + c.getLong(0)
          + " rows, " + c.getLong(1) + " distinct ids); --incremental needs unique ids");
    }
    return c.getLong(0);
  }

  /** Refuses an output that was not written by an incremental run with this run's model and options. */
  private void checkEmbedder(Dataset<Row> existing) {
    String notIncremental = r.output() + ": not written by --incremental (no " + HASH + " and " + EMBEDDER
        + " columns); rebuild it once with --incremental --mode overwrite";
    if (!Arrays.asList(existing.columns()).containsAll(List.of(HASH, EMBEDDER))) {
      throw new IllegalArgumentException(notIncremental);
    }
    List<Row> seen = JobGroup.COUNT.run(spark, "check the output's embedder",
        () -> existing.select(EMBEDDER).distinct().limit(3).collectAsList());
    for (Row row : seen) {
      if (row.isNullAt(0)) {
        throw new IllegalArgumentException(notIncremental);
      }
      if (!row.getString(0).equals(embedder)) {
        throw new IllegalArgumentException(r.output() + ": written with another model or options (embedder "
            + row.getString(0) + "; this run is " + embedder + ": " + EmbedderFingerprint.describe(stage)
            + "); re-embed every row with --mode overwrite, or write to a new output");
      }
    }
  }

  /** One job: how the input's ids and hashes compare with the output's. */
  private JobSummary.Changes compare(Dataset<Row> keys, Dataset<Row> existing, Column sameId, Column sameText) {
    Dataset<Row> both = keys.join(existing.select(ID, HASH), sameId, "full_outer");
    Column inInput = col(KEY_ID).isNotNull();
    Column inOutput = col(ID).isNotNull();
    Row c = JobGroup.COUNT.run(spark, "compare input and output",
        () -> both.agg(count(when(inInput.and(not(inOutput)), 1)),
            count(when(inInput.and(inOutput).and(not(sameText)), 1)),
            count(when(inInput.and(inOutput).and(sameText), 1)),
            count(when(not(inInput).and(inOutput), 1))).first());
    return new JobSummary.Changes(c.getLong(0), c.getLong(1), c.getLong(2), r.keepDeleted() ? 0 : c.getLong(3));
  }

  private long goneCount(Dataset<Row> existing, Dataset<Row> keys, Column sameId) {
    return JobGroup.COUNT.run(spark, "count rows gone from the input",
        () -> existing.select(ID).join(keys, sameId, "left_anti").count());
  }

  /** What the embedding pass produced, and the executors that ran it. */
  private record Pass(OutputCounts counts, int executors) {}

  /** Runs {@code job}, which embeds and returns the counts of the rows it embedded, with progress. */
  private Pass embedding(long rows, Supplier<OutputCounts> job) {
    return JobGroup.EMBED.run(spark, "embed new and changed rows", () -> {
      try (ProgressReporter progress = new ProgressReporter(spark.sparkContext(), JobGroup.EMBED.id(), rows,
          r.progressSeconds())) {
        OutputCounts counts = job.get();
        return new Pass(counts, progress.executors());
      }
    });
  }

  /** The bad-text kinds of the rows this run embeds. */
  private TextKindCounts textKinds(Dataset<Row> rows) {
    return JobGroup.COUNT.run(spark, "count bad-text kinds", () -> TextKindCounts.of(rows, TEXT));
  }

  private JobSummary summary(long rowsIn, long rowsOut, Pass pass, TextKindCounts kinds, JobSummary.Changes changes) {
    double seconds = (System.nanoTime() - start) / 1e9;
    OutputCounts c = pass.counts();
    return new JobSummary(rowsIn, rowsOut, c.embedded(), kinds.nullText(), c.truncated(), stage.modelLoads(),
        pass.executors(), seconds, kinds.badRows(c.rows(), c.embedded()), changes);
  }
}

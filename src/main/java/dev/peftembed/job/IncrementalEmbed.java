package dev.peftembed.job;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.countDistinct;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.not;
import static org.apache.spark.sql.functions.sha2;
import static org.apache.spark.sql.functions.when;

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
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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

  private IncrementalEmbed() {}

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
    Dataset<Row> all = outputColumns(vectors, embedder);

    long rowsIn = checkIds(spark, r, input);
    if (!exists || r.mode() == SaveMode.Overwrite) {
      LOG.info("{}: {} output, embedding all {} rows", r.output(), exists ? "rebuilding the" : "no", rowsIn);
      TextKinds kinds = textKinds(spark, input);
      Dataset<Row> rebuilt = outputColumns(stage.transform(r.partitions().spread(input, rowsIn)), embedder);
      Pass written = embedding(spark, r, rowsIn, () -> {
        EmbedJob.writeVisible(spark, rebuilt, r.outputFormat(), r.mode(), r.output());
        return EmbedJob.inJobGroup(spark, EmbedJob.VERIFY_GROUP, "count written rows",
            () -> EmbedJob.Counts.of(EmbedJob.readOutput(spark, r.outputFormat(), r.output(), all.schema())));
      });
      return summary(stage, start, rowsIn, written.counts().rows(), written, kinds,
          new JobSummary.Changes(rowsIn, 0, 0, 0));
    }

    Dataset<Row> existing = EmbedJob.readOutput(spark, r.outputFormat(), r.output(), all.schema());
    checkEmbedder(spark, r, existing, embedder, stage);
    Dataset<Row> keys = input.select(col(ID).as(KEY_ID), col(HASH).as(KEY_HASH));
    Column sameId = col(ID).equalTo(col(KEY_ID));
    Column sameText = col(HASH).eqNullSafe(col(KEY_HASH));
    JobSummary.Changes changes = compare(spark, keys, existing, sameId, sameText, r.keepDeleted());
    LOG.info("{}: {} new, {} changed, {} unchanged, {} to delete", r.output(), changes.rowsNew(),
        changes.rowsChanged(), changes.rowsUnchanged(), changes.rowsDeleted());
    long kept = changes.rowsUnchanged() + (r.keepDeleted() ? goneCount(spark, existing, keys, sameId) : 0);
    if (!changes.any()) {
      return summary(stage, start, rowsIn, kept, new Pass(EmbedJob.Counts.NONE, 0), TextKinds.NONE, changes);
    }

    Dataset<Row> toEmbed = input.join(existing.select(col(ID).as(KEY_ID), col(HASH).as(KEY_HASH)),
        col(ID).equalTo(col(KEY_ID)), "left_outer")
        .where(col(KEY_ID).isNull().or(not(col(HASH).eqNullSafe(col(KEY_HASH)))))
        .select(ID, TEXT, HASH);
    long rowsToEmbed = changes.rowsNew() + changes.rowsChanged();
    TextKinds kinds = rowsToEmbed == 0 ? TextKinds.NONE : textKinds(spark, toEmbed);
    // Kept for the write after the counting job: the vectors are computed once.
    Dataset<Row> fresh = embed(stage, r.partitions().spreadShuffled(toEmbed, rowsToEmbed), embedder)
        .persist(StorageLevel.MEMORY_AND_DISK());
    try {
      Pass embedded = embedding(spark, r, rowsToEmbed, () -> EmbedJob.Counts.of(fresh));
      spark.sparkContext().setJobGroup(EmbedJob.JOB_GROUP, REWRITE, false);
      if (r.outputFormat() == OutputFormat.DELTA) {
        Dataset<Row> upserts = fresh.withColumn(DELETE, lit(false));
        Dataset<Row> deletes = existing.select(ID).join(keys, sameId, "left_anti").withColumn(DELETE, lit(true));
        DeltaLake.merge(spark, r.output(), r.keepDeleted() ? upserts : upserts.unionByName(deletes, true), DELETE);
      } else {
        Dataset<Row> carried = r.keepDeleted()
            ? existing.join(keys, sameId.and(not(sameText)), "left_anti")
            : existing.join(keys, sameId.and(sameText), "left_semi");
        Dataset<Row> result = carried.unionByName(fresh);
        EmbedJob.writeVisible(spark, result, r.outputFormat(), SaveMode.Overwrite, r.output());
      }
      long rowsOut = EmbedJob.inJobGroup(spark, EmbedJob.VERIFY_GROUP, "count written rows",
          () -> EmbedJob.readOutput(spark, r.outputFormat(), r.output(), all.schema()).count());
      return summary(stage, start, rowsIn, rowsOut, embedded, kinds, changes);
    } finally {
      spark.sparkContext().clearJobGroup();
      fresh.unpersist();
    }
  }

  /** The rows with their embedding, hash and fingerprint, in the column order of an incremental output. */
  private static Dataset<Row> embed(PeftEmbedder stage, Dataset<Row> rows, String embedder) {
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
  private static long checkIds(SparkSession spark, EmbedJob.Request r, Dataset<Row> input) {
    Row c = EmbedJob.inJobGroup(spark, EmbedJob.COUNT_GROUP, "count input rows and ids",
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

  private static void checkEmbedder(SparkSession spark, EmbedJob.Request r, Dataset<Row> existing, String embedder,
      PeftEmbedder stage) {
    String notIncremental = r.output() + ": not written by --incremental (no " + HASH + " and " + EMBEDDER
        + " columns); rebuild it once with --incremental --mode overwrite";
    if (!Arrays.asList(existing.columns()).containsAll(List.of(HASH, EMBEDDER))) {
      throw new IllegalArgumentException(notIncremental);
    }
    List<Row> seen = EmbedJob.inJobGroup(spark, EmbedJob.COUNT_GROUP, "check the output's embedder",
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
  private static JobSummary.Changes compare(SparkSession spark, Dataset<Row> keys, Dataset<Row> existing,
      Column sameId, Column sameText, boolean keepDeleted) {
    Dataset<Row> both = keys.join(existing.select(ID, HASH), sameId, "full_outer");
    Column inInput = col(KEY_ID).isNotNull();
    Column inOutput = col(ID).isNotNull();
    Row c = EmbedJob.inJobGroup(spark, EmbedJob.COUNT_GROUP, "compare input and output",
        () -> both.agg(count(when(inInput.and(not(inOutput)), 1)),
            count(when(inInput.and(inOutput).and(not(sameText)), 1)),
            count(when(inInput.and(inOutput).and(sameText), 1)),
            count(when(not(inInput).and(inOutput), 1))).first());
    return new JobSummary.Changes(c.getLong(0), c.getLong(1), c.getLong(2), keepDeleted ? 0 : c.getLong(3));
  }

  private static long goneCount(SparkSession spark, Dataset<Row> existing, Dataset<Row> keys, Column sameId) {
    return EmbedJob.inJobGroup(spark, EmbedJob.COUNT_GROUP, "count rows gone from the input",
        () -> existing.select(ID).join(keys, sameId, "left_anti").count());
  }

  /** What the embedding pass produced, and the executors that ran it. */
  private record Pass(EmbedJob.Counts counts, int executors) {}

  /** Runs {@code job}, which embeds and returns the counts of the rows it embedded, with progress. */
  private static Pass embedding(SparkSession spark, EmbedJob.Request r, long rows, Supplier<EmbedJob.Counts> job) {
    spark.sparkContext().setJobGroup(EmbedJob.JOB_GROUP, "embed new and changed rows", false);
    try (ProgressReporter progress = new ProgressReporter(spark.sparkContext(), EmbedJob.JOB_GROUP, rows,
        r.progressSeconds())) {
      EmbedJob.Counts counts = job.get();
      return new Pass(counts, progress.executors());
    } finally {
      spark.sparkContext().clearJobGroup();
    }
  }

  /** The bad-text kinds of the rows this run embeds. */
  private static TextKinds textKinds(SparkSession spark, Dataset<Row> rows) {
    return EmbedJob.inJobGroup(spark, EmbedJob.COUNT_GROUP, "count bad-text kinds", () -> TextKinds.of(rows, TEXT));
  }

  private static JobSummary summary(PeftEmbedder stage, long start, long rowsIn, long rowsOut, Pass pass,
      TextKinds kinds, JobSummary.Changes changes) {
    double seconds = (System.nanoTime() - start) / 1e9;
    EmbedJob.Counts c = pass.counts();
    return new JobSummary(rowsIn, rowsOut, c.embedded(), kinds.nullText(), c.truncated(), stage.modelLoads(),
        pass.executors(), seconds, kinds.badRows(c.rows(), c.embedded()), changes);
  }
}

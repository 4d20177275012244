package dev.peftembed.spark;

import dev.peftembed.embed.DeviceChoice;
import dev.peftembed.embed.EncoderOptions;
import dev.peftembed.embed.NamedAdapters;
import dev.peftembed.embed.Normalization;
import dev.peftembed.embed.Precision;
import dev.peftembed.pooling.VirtualTokenPolicy;
import java.util.List;
import org.apache.spark.SparkContext;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.LongAccumulator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Appends sentence embeddings of a string column, computed by a sentence-transformers model with an optional PEFT
 * adapter, or with the adapter each row names, exactly as sentence-transformers (with the virtual-token fixes) and
 * PEFT compute them.
 *
 * <pre>{@code
 * PeftEmbedder embedder = new PeftEmbedder()
 *     .setInputCol("text").setOutputCol("embedding")
 *     .setModelPath("hdfs:///models/all-MiniLM-L6-v2").setAdapterPath("hdfs:///adapters/support-tickets");
 * Dataset<Row> embedded = embedder.transform(corpus);
 * }</pre>
 *
 * <ul>
 *   <li>{@link #transform} reads and cross-checks the model's and adapter's configs on the driver first, so a bad
 *       path or an incompatible adapter fails at once, with the one-line message of the {@code encode} command,
 *       before any task runs.
 *   <li>Each executor loads a model once per (model, adapters, options, device), however many adapters, and shares
 *       it among its task threads and across jobs ({@link EncoderCache}); {@link #modelLoads()} counts the loads.
 *   <li>Partitions stream through in windows of {@value #WINDOW_ROWS} rows: memory is bounded whatever the partition
 *       size, row order is kept, every input column passes through untouched, and a null text gets a null
 *       embedding (empty and blank texts are embedded).
 * </ul>
 *
 * <p>Persistable with {@link DefaultParamsWritable}, alone or inside a saved {@code PipelineModel}.
 */
public final class PeftEmbedder extends PeftEmbedderParams implements DefaultParamsWritable {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(PeftEmbedder.class);

  /**
   * Rows encoded together: enough for the encoder's length sorting to pad little, few enough that a window's rows
   * and vectors take a few megabytes.
   */
  static final int WINDOW_ROWS = 2048;

  private transient LongAccumulator loads;
  private transient SparkContext loadsContext;

  /** @param uid the stage's unique id */
  public PeftEmbedder(String uid) {
    super(uid);
  }

  /** Creates a stage with a random uid. */
  public PeftEmbedder() {
    this(Identifiable$.MODULE$.randomUID("peftEmbedder"));
  }

  /** @return a reader for stages saved with {@link #write()} */
  public static MLReader<PeftEmbedder> read() {
    return new DefaultParamsReader<>();
  }

  /** @return the stage saved at {@code path} */
  public static PeftEmbedder load(String path) {
    return read().load(path);
  }

  /** @return this, embedding column {@code value} */
  public PeftEmbedder setInputCol(String value) {
    set(inputCol(), value);
    return this;
  }

  /** @return this, writing embeddings to the new column {@code value} */
  public PeftEmbedder setOutputCol(String value) {
    set(outputCol(), value);
    return this;
  }

  /** @return this, reading the model from {@code value} (empty: the bundled default model) */
  public PeftEmbedder setModelPath(String value) {
    set(modelPath(), value);
    return this;
  }

  /** @return this, applying the adapter at {@code value} (empty: none) */
  public PeftEmbedder setAdapterPath(String value) {
    set(adapterPath(), value);
    return this;
  }

  /** @return this, with named adapters {@code NAME=DIR} (DIR as modelPath); a bad spec or a repeated name throws */
  public PeftEmbedder setAdapters(String... value) {
    NamedAdapters.parse(List.of(value));
    set(adapters(), value);
    return this;
  }

  /** @return this, with {@code value} as the base model of a modelPath saved with an adapter (empty: the one named) */
  public PeftEmbedder setBaseModelPath(String value) {
    set(baseModelPath(), value);
    return this;
  }

  /** @return this, reading each row's adapter name from column {@code value} */
  public PeftEmbedder setAdapterCol(String value) {
    set(adapterCol(), value);
    return this;
  }

  /** @return this, with virtual tokens {@code include}d in or {@code exclude}d from pooling; else throws */
  public PeftEmbedder setVirtualTokens(String value) {
    VirtualTokenPolicy.parse(value);
    set(virtualTokens(), value);
    return this;
  }

  /** @return this, with at most {@code value} rows per forward pass */
  public PeftEmbedder setBatchSize(int value) {
    set(batchSize(), value);
    return this;
  }

  /** @return this, with at most {@code value} padded positions per forward pass */
  public PeftEmbedder setMaxBatchTokens(int value) {
    set(maxBatchTokens(), value);
    return this;
  }

  /** @return this, with a real-token limit of {@code value} (0: the model's) */
  public PeftEmbedder setMaxSeqLength(int value) {
    set(maxSeqLength(), value);
    return this;
  }

  /**
   * @return this, running on {@code auto}, {@code cpu}, {@code gpu} or {@code gpu:N}
   * @throws IllegalArgumentException naming the accepted values
   */
  public PeftEmbedder setDevice(String value) {
    DeviceChoice.parse(value);
    set(device(), value);
    return this;
  }

  /** @return this, at precision {@code float32} or {@code float16}; any other value throws, naming those */
  public PeftEmbedder setDtype(String value) {
    Precision.parse(value);
    set(dtype(), value);
    return this;
  }

  /** @return this, writing {@code array}&lt;float&gt; or ML {@code vector} embeddings */
  public PeftEmbedder setOutputType(String value) {
    set(outputType(), value);
    return this;
  }

  /** @return this, writing real-token counts to the new column {@code value} (empty: none) */
  public PeftEmbedder setNumTokensCol(String value) {
    set(numTokensCol(), value);
    return this;
  }

  /** @return this, writing truncation flags to the new column {@code value} (empty: none) */
  public PeftEmbedder setTruncatedCol(String value) {
    set(truncatedCol(), value);
    return this;
  }

  /** @param value a new string column for why a row has no embedding; empty for none */
  public PeftEmbedder setErrorCol(String value) {
    set(errorCol(), value);
    return this;
  }

  /** @return this, prepending the literal prompt {@code value} to every text (empty: no prompt at all) */
  public PeftEmbedder setPrompt(String value) {
    set(prompt(), value);
    return this;
  }

  /** @return this, prepending the model's prompt named {@code value} (empty: none) */
  public PeftEmbedder setPromptName(String value) {
    set(promptName(), value);
    return this;
  }

  /**
   * @return this, normalizing as {@code model}, {@code true} or {@code false} say
   * @throws IllegalArgumentException naming the accepted values
   */
  public PeftEmbedder setNormalize(String value) {
    Normalization.parse(value);
    set(normalize(), value);
    return this;
  }

  /** @return this, forcing unit vectors ({@code true}) or skipping the model's Normalize module ({@code false}) */
  public PeftEmbedder setNormalize(boolean value) {
    return setNormalize(Boolean.toString(value));
  }

  /** @return this, keeping the first {@code value} dimensions (0: all) */
  public PeftEmbedder setTruncateDim(int value) {
    set(truncateDim(), value);
    return this;
  }

  /**
   * Sets every encoder param from {@code options}: the inverse of {@link #encoderOptions()}. A {@code null} prompt
   * clears {@link #prompt()}, so that the model's default prompt applies.
   *
   * @return this
   */
  public PeftEmbedder setEncoderOptions(EncoderOptions options) {
    EncoderOptionsParams.write(options, this);
    return this;
  }

  /**
   * Checks that the input column exists and is a string and that the new columns are new, and appends them.
   *
   * @throws IllegalArgumentException naming the column and what is wrong with it
   */
  @Override
  public StructType transformSchema(StructType schema) {
    return outputLayout(schema).schema();
  }

  /**
   * Validates everything that can be validated on the driver (schema, options, the model's and adapter's configs),
   * then embeds lazily, partition by partition, on the executors.
   *
   * @throws IllegalArgumentException for a bad column or option
   * @throws dev.peftembed.model.ModelFormatException for a bad model or adapter directory
   */
  @Override
  public Dataset<Row> transform(Dataset<?> dataset) {
    ResolvedStage r = resolve(dataset);
    LOG.info("{}: {} -> {} {}", uid(), getInputCol(), getOutputCol(), r.describe());
    return dataset.toDF().mapPartitions(r.embedder(WINDOW_ROWS, loadCounter(dataset.sparkSession().sparkContext())),
        Encoders.row(r.layout().schema()));
  }

  /**
   * Checks on the driver what {@link #transform} checks, and plans nothing: for a caller that must fail fast before
   * it runs jobs of its own over the input (counting it, spreading it) and transforms it afterwards.
   *
   * @throws IllegalArgumentException for a bad column or option
   * @throws dev.peftembed.model.ModelFormatException for a bad model or adapter directory
   */
  public void validate(Dataset<?> dataset) {
    resolve(dataset);
  }

  private ResolvedStage resolve(Dataset<?> dataset) {
    return ResolvedStage.of(this, outputLayout(dataset.schema()),
        dataset.sparkSession().sparkContext().hadoopConfiguration());
  }

  /**
   * @return models loaded by executors for this stage instance, summed over successful tasks; read it after an
   *     action. A model already in an executor's cache, from any earlier job of any stage, costs no load: in a
   *     fresh application this equals the number of executors (times GPUs per executor) that ran a task
   */
  public synchronized long modelLoads() {
    return loads == null ? 0 : loads.value();
  }

  @Override
  public PeftEmbedder copy(ParamMap extra) {
    return defaultCopy(extra);
  }

  private synchronized LongAccumulator loadCounter(SparkContext sc) {
    // One counter per stage instance and SparkContext, so that loads add up over all the jobs this stage runs.
    if (loads == null || loadsContext != sc) {
      loads = sc.longAccumulator("peft-embed model loads (" + uid() + ")");
      loadsContext = sc;
    }
    return loads;
  }
}

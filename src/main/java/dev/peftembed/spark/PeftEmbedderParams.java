package dev.peftembed.spark;

import dev.peftembed.embed.DeviceChoice;
import dev.peftembed.embed.EncoderDefaults;
import dev.peftembed.embed.EncoderOptions;
import dev.peftembed.embed.Normalization;
import dev.peftembed.embed.Precision;
import dev.peftembed.pooling.VirtualTokenPolicy;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.param.StringArrayParam;
import static dev.peftembed.spark.StageParamChecks.parses;
import static dev.peftembed.spark.StageParamChecks.zeroOrAtLeast;

/**
 * The params of {@link PeftEmbedder} that say how texts are encoded (model, adapter, options), with their docs,
 * defaults and getters; the columns are {@link PeftEmbedderColumnParams}'. As there, each param is a public
 * no-argument method, for Spark's reflection, and the setters live on the stage.
 *
 * <p>Optional settings take a neutral default ({@code ""} or {@code 0}) meaning "none" or "as the model says", so that
 * {@code explainParams()} shows every default. The one exception is {@link #prompt()}: an unset prompt and an empty
 * one differ (the model's default prompt, or none at all), as in sentence-transformers.
 */
public abstract class PeftEmbedderParams extends PeftEmbedderColumnParams {
  private static final long serialVersionUID = 1L;

  private final Param<String> modelPath;
  private final Param<String> adapterPath;
  private final Param<String> baseModelPath;
  private final StringArrayParam adapters;
  private final Param<String> virtualTokens;
  private final IntParam batchSize;
  private final IntParam maxBatchTokens;
  private final IntParam maxSeqLength;
  private final Param<String> device;
  private final Param<String> dtype;
  private final Param<String> prompt;
  private final Param<String> promptName;
  private final Param<String> normalize;
  private final IntParam truncateDim;

  /**
   * Creates the parameters and sets their defaults.
   *
   * @param uid the stage's unique id, which every parameter records as its parent
   */
  protected PeftEmbedderParams(String uid) {
    super(uid);
    modelPath = new Param<>(this, "modelPath", "the sentence-transformers model directory: a local path, a name "
        + "shipped with --files/--archives, or a Hadoop FileSystem URI (hdfs:, s3a:, file:); empty for the bundled "
        + "all-MiniLM-L6-v2");
    adapterPath = new Param<>(this, "adapterPath", "the PEFT prompt-tuning, P-tuning, prefix-tuning or LoRA "
        + "adapter directory, given like modelPath; empty for none");
    baseModelPath = new Param<>(this, "baseModelPath", "the base model of a modelPath directory saved with an "
        + "adapter (adapter_config.json and adapter_model.safetensors in place of the weights), given like modelPath; "
        + "empty for the adapter's base_model_name_or_path when that is a local directory");
    adapters = new StringArrayParam(this, "adapters", "named adapters, each NAME=DIR with DIR given like modelPath; "
        + "each row picks one by the name in adapterCol (null: the base model), over one copy of the model. Not "
        + "together with adapterPath");
    virtualTokens = new Param<>(this, "virtualTokens", "whether the adapter's virtual tokens take part in pooling: "
        + VirtualTokenPolicy.ALLOWED + " (include: as sentence-transformers computes; exclude: real tokens only)",
        parses(VirtualTokenPolicy::parse));
    batchSize = new IntParam(this, "batchSize", "the most rows per forward pass (>= "
        + EncoderOptions.MIN_BATCH_SIZE + ")", ParamValidators.gtEq(EncoderOptions.MIN_BATCH_SIZE));
    maxBatchTokens = new IntParam(this, "maxBatchTokens", "the most padded positions per forward pass, virtual "
        + "tokens included (>= " + EncoderOptions.MIN_BATCH_TOKENS + ")",
        ParamValidators.gtEq(EncoderOptions.MIN_BATCH_TOKENS));
    maxSeqLength = new IntParam(this, "maxSeqLength", "a real-token limit below the model's own, special tokens "
        + "included (>= " + EncoderOptions.MIN_SEQ_LENGTH + "); 0 for the model's max_seq_length",
        zeroOrAtLeast(EncoderOptions.MIN_SEQ_LENGTH));
    device = new Param<>(this, "device", "where the model runs: " + DeviceChoice.ALLOWED + " (auto: the GPU Spark "
        + "assigned to the task, else a GPU libtorch sees, else the CPU; gpu: the same, but an error if there is "
        + "none; gpu:N: GPU N of each executor)", parses(DeviceChoice::parse));
    dtype = new Param<>(this, "dtype", "the model's precision: " + Precision.ALLOWED + " (float16 on GPU only)",
        parses(Precision::parse));
    prompt = new Param<>(this, "prompt", "a literal text prompt prepended to every text; unset for the model's "
        + "default prompt, if any; empty for no prompt at all");
    promptName = new Param<>(this, "promptName", "a prompt named in the model's config_sentence_transformers.json; "
        + "empty for none. Not together with prompt");
    normalize = new Param<>(this, "normalize", "whether the vectors are L2-normalized: " + Normalization.ALLOWED
        + " (model: as the model's Normalize module says; true: unit vectors at the very end, after truncateDim; "
        + "false: skip Normalize)", parses(Normalization::parse));
    truncateDim = new IntParam(this, "truncateDim", "keep only the first N dimensions (Matryoshka); 0 for all",
        zeroOrAtLeast(EncoderOptions.MIN_TRUNCATE_DIM));
    setDefault(modelPath, "");
    setDefault(adapterPath, "");
    setDefault(adapters, new String[0]);
    setDefault(baseModelPath, "");
    setDefault(virtualTokens, EncoderDefaults.VIRTUAL_TOKENS);
    setDefault(batchSize, Integer.parseInt(EncoderDefaults.BATCH_SIZE));
    setDefault(maxBatchTokens, Integer.parseInt(EncoderDefaults.MAX_BATCH_TOKENS));
    setDefault(maxSeqLength, Integer.parseInt(EncoderDefaults.MAX_SEQ_LENGTH));
    setDefault(device, EncoderDefaults.DEVICE);
    setDefault(dtype, EncoderDefaults.DTYPE);
    setDefault(promptName, "");
    setDefault(normalize, EncoderDefaults.NORMALIZE);
    setDefault(truncateDim, Integer.parseInt(EncoderDefaults.TRUNCATE_DIM));
  }

  /** @return the model directory; default empty: the bundled all-MiniLM-L6-v2 */
  public Param<String> modelPath() {
    return modelPath;
  }

  /** @return the PEFT adapter directory; default empty: none */
  public Param<String> adapterPath() {
    return adapterPath;
  }

  /** @return the base model of a model directory saved with an adapter; default empty: the one it names */
  public Param<String> baseModelPath() {
    return baseModelPath;
  }

  /** @return the value of {@link #baseModelPath()} */
  public String getBaseModelPath() {
    return getOrDefault(baseModelPath);
  }

  /** @return named adapters, {@code NAME=DIR} each; default empty: none */
  public StringArrayParam adapters() {
    return adapters;
  }

  /** @return the value of {@link #adapters()} */
  public String[] getAdapters() {
    return getOrDefault(adapters);
  }

  @Override
  boolean namesAdapters() {
    return getAdapters().length > 0;
  }

  /** @return {@code include} or {@code exclude} the virtual tokens from pooling; default {@code include} */
  public Param<String> virtualTokens() {
    return virtualTokens;
  }

  /** @return the most rows per forward pass; default 64 */
  public IntParam batchSize() {
    return batchSize;
  }

  /** @return the most padded positions per forward pass; default 16384 */
  public IntParam maxBatchTokens() {
    return maxBatchTokens;
  }

  /** @return a real-token limit below the model's own; default 0: the model's */
  public IntParam maxSeqLength() {
    return maxSeqLength;
  }

  /** @return {@code auto}, {@code cpu}, {@code gpu} or {@code gpu:N}; default {@code auto} */
  public Param<String> device() {
    return device;
  }

  /** @return {@code float32} or {@code float16}; default {@code float32} */
  public Param<String> dtype() {
    return dtype;
  }

  /** @return a literal text prompt; no default: unset means the model's default prompt */
  public Param<String> prompt() {
    return prompt;
  }

  /** @return a named prompt of the model; default empty: none */
  public Param<String> promptName() {
    return promptName;
  }

  /** @return {@code model}, {@code true} or {@code false}; default {@code model} */
  public Param<String> normalize() {
    return normalize;
  }

  /** @return the dimensions to keep; default 0: all */
  public IntParam truncateDim() {
    return truncateDim;
  }

  /** @return the value of {@link #modelPath()} */
  public String getModelPath() {
    return getOrDefault(modelPath);
  }

  /** @return the value of {@link #adapterPath()} */
  public String getAdapterPath() {
    return getOrDefault(adapterPath);
  }

  /** @return the value of {@link #virtualTokens()} */
  public String getVirtualTokens() {
    return getOrDefault(virtualTokens);
  }

  /** @return the value of {@link #batchSize()} */
  public int getBatchSize() {
    return (Integer) getOrDefault(batchSize);
  }

  /** @return the value of {@link #maxBatchTokens()} */
  public int getMaxBatchTokens() {
    return (Integer) getOrDefault(maxBatchTokens);
  }

  /** @return the value of {@link #maxSeqLength()} */
  public int getMaxSeqLength() {
    return (Integer) getOrDefault(maxSeqLength);
  }

  /** @return the value of {@link #device()} */
  public String getDevice() {
    return getOrDefault(device);
  }

  /** @return the value of {@link #dtype()} */
  public String getDtype() {
    return getOrDefault(dtype);
  }

  /** @return the value of {@link #prompt()}, or {@code null} when unset */
  public String getPrompt() {
    return isDefined(prompt) ? getOrDefault(prompt) : null;
  }

  /** @return the value of {@link #promptName()} */
  public String getPromptName() {
    return getOrDefault(promptName);
  }

  /** @return the value of {@link #normalize()} */
  public String getNormalize() {
    return getOrDefault(normalize);
  }

  /** @return the value of {@link #truncateDim()} */
  public int getTruncateDim() {
    return (Integer) getOrDefault(truncateDim);
  }

  /**
   * @return the parameters as the encoder's options, with the device still as requested
   * @throws IllegalArgumentException for settings that contradict each other
   */
  public EncoderOptions encoderOptions() {
    return EncoderOptionsParams.read(this);
  }
}

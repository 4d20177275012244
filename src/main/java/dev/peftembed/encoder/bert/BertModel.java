package dev.peftembed.encoder.bert;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.jni.JniUtils;
import dev.peftembed.encoder.AttentionMasks;
import dev.peftembed.encoder.CpuActivationBudget;
import dev.peftembed.encoder.ScaledDotProductAttention;
import dev.peftembed.encoder.WeightLoader;
import dev.peftembed.encoder.WeightOverlay;
import dev.peftembed.model.BertConfig;
import dev.peftembed.model.Checkpoint;
import dev.peftembed.runtime.DjlRuntime;

/**
 * A BERT-family encoder composed from libtorch operations through DJL: the embeddings of its architecture, then the
 * layer stack. BERT (MiniLM, BGE, E5, GTE), RoBERTa and XLM-RoBERTa share BERT's layers and differ in how they number
 * positions; DistilBERT runs the same layers under its own module names. It returns the last hidden state; pooling is
 * not its business.
 *
 * <p>Weights live in one {@link NDManager} owned by this model. Forward passes allocate only from the caller's
 * manager, and read the weights concurrently, so one model serves every task thread of an executor.
 */
public final class BertModel implements AutoCloseable {
  private final BertConfig config;
  private final NDManager manager;
  private final DataType dtype;
  private final TokenEmbeddings embeddings;
  private final LayerStack encoder;

  private BertModel(BertConfig config, NDManager manager, DataType dtype, TokenEmbeddings embeddings,
      LayerStack encoder) {
    this.config = config;
    this.manager = manager;
    this.dtype = dtype;
    this.embeddings = embeddings;
    this.encoder = encoder;
  }

  /**
   * Loads the weights onto {@code device}.
   *
   * @param dtype float32, or float16 (GPU only: libtorch's CPU half kernels are slow and partial)
   */
  public static BertModel load(Checkpoint checkpoint, BertConfig config, Device device, DataType dtype) {
    return load(checkpoint, config, device, dtype, WeightOverlay.NONE);
  }

  /**
   * Loads the weights onto {@code device}, each edited by {@code overlay} in float32 before it is rearranged or cast.
   *
   * @param dtype float32, or float16 (GPU only)
   * @param overlay a merged adapter's edits of the base weights, or {@link WeightOverlay#NONE}
   */
  public static BertModel load(Checkpoint checkpoint, BertConfig config, Device device, DataType dtype,
      WeightOverlay overlay) {
    NDManager manager = DjlRuntime.pytorch().newBaseManager(device);
    try {
      WeightLoader w = new WeightLoader(checkpoint, manager, dtype, overlay);
      ScaledDotProductAttention kernel = ScaledDotProductAttention.load((PtNDManager) manager);
      return new BertModel(config, manager, dtype, embeddings(w.at("embeddings"), config),
          layers(w, config, kernel));
    } catch (RuntimeException e) {
      manager.close();
      throw e;
    }
  }

  /** The architecture dispatch, with {@link #layers}: each architecture's own module classes, by config.json. */
  private static TokenEmbeddings embeddings(WeightLoader w, BertConfig config) {
    return switch (config.architecture()) {
      case BERT -> BertEmbeddings.load(w, config);
      case ROBERTA, XLM_ROBERTA -> RobertaEmbeddings.load(w, config);
      case DISTILBERT -> DistilBertEmbeddings.load(w, config);
      case MPNET -> throw notBert(config);
    };
  }

  private static LayerStack layers(WeightLoader w, BertConfig config, ScaledDotProductAttention kernel) {
    return switch (config.architecture()) {
      case BERT, ROBERTA, XLM_ROBERTA -> BertEncoder.load(w.at("encoder"), config, kernel);
      case DISTILBERT -> DistilBertTransformer.load(w.at("transformer"), config, kernel);
      case MPNET -> throw notBert(config);
    };
  }

  /** MPNet's layers are not BERT's: its checkpoints load as {@code encoder.mpnet.MPNetModel}. */
  private static IllegalArgumentException notBert(BertConfig config) {
    return new IllegalArgumentException("model_type " + config.architecture().modelType() + " does not run as a "
        + "BERT-family model");
  }

  /** @return the architecture */
  public BertConfig config() {
    return config;
  }

  /** @return the compute dtype */
  public DataType dtype() {
    return dtype;
  }

  /** @return the device holding the weights */
  public Device device() {
    return manager.getDevice();
  }

  /** @return the manager that owns the weights, for arrays that must live as long as the model */
  public NDManager manager() {
    return manager;
  }

  /**
   * Runs the encoder. The attention mask covers every key position: virtual tokens, prefix and real tokens.
   *
   * @param ids [B, N] int64 real token ids
   * @param typeIds [B, N] int64 token types, or {@code null} for type 0 everywhere (PEFT's prompt learning)
   * @param attentionMask [B, P+M+N] in the model dtype: 1 attended, 0 padding
   * @param prompt [M, H] virtual-token embeddings placed before the real tokens, or {@code null}
   * @param prefix P keys and values per layer placed before the tokens' own (prefix tuning), or {@code null}
   * @param lora an unmerged LoRA adapter's terms, applied to every row of the batch, or {@code null}
   * @return [B, M+N, H] token embeddings, allocated from {@code ids}' manager
   */
  public NDArray forward(NDArray ids, NDArray typeIds, NDArray attentionMask, NDArray prompt,
      AttentionPrefix prefix, LowRankTerms lora) {
    JniUtils.setGradMode(false);
    long batch = ids.getShape().get(0);
    long length = ids.getShape().get(1) + (prompt == null ? 0 : prompt.getShape().get(0));
    int past = prefix == null ? 0 : prefix.length();
    long keys = attentionMask.getShape().get(1);
    if (keys != past + length) {
      throw new IllegalArgumentException("attention mask has " + keys + " positions but the model attends to "
          + (past + length) + " (prefix, virtual and real tokens)");
    }
    try (NDArray bias = AttentionMasks.additiveBias(attentionMask, dtype)) {
      NDArray flat;
      try (NDArray embedded = embeddings.forward(ids, typeIds, prompt, past,
          lora == null ? null : lora.embeddingsShift())) {
        flat = embedded.reshape(batch * length, config.hiddenSize());
      }
      try (NDArray hidden = encoder.forward(flat, new AttentionInputs(batch, length, bias, null, null), prefix,
          lora)) {
        return hidden.reshape(batch, length, config.hiddenSize());
      }
    }
  }

  /**
   * @param length positions per row as the layers see them, virtual tokens included
   * @return the most rows per forward pass: all of them on a GPU, on CPU as many as keep each activation within
   *     {@link CpuActivationBudget}
   */
  public int rowsPerPass(long length) {
    if (device().isGpu()) {
      return Integer.MAX_VALUE;
    }
    return CpuActivationBudget.passRows(length, Math.max(config.intermediateSize(), 3L * config.hiddenSize()));
  }

  /** Frees the weights' native memory. */
  @Override
  public void close() {
    manager.close();
  }
}

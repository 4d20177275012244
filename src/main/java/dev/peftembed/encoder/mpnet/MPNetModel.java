package dev.peftembed.encoder.mpnet;

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
 * An MPNet encoder (all-mpnet-base-v2 and its kin) composed from libtorch operations through DJL: embeddings, then
 * the layer stack with its relative position bias. It returns the last hidden state; pooling is not its business.
 *
 * <p>As with {@code BertModel}, the weights live in one manager owned by this model, forward passes allocate only
 * from the caller's manager, and one model serves every task thread of an executor.
 */
public final class MPNetModel implements AutoCloseable {
  private final BertConfig config;
  private final NDManager manager;
  private final DataType dtype;
  private final MPNetEmbeddings embeddings;
  private final MPNetEncoder encoder;

  private MPNetModel(BertConfig config, NDManager manager, DataType dtype, MPNetEmbeddings embeddings,
      MPNetEncoder encoder) {
    this.config = config;
    this.manager = manager;
    this.dtype = dtype;
    this.embeddings = embeddings;
    this.encoder = encoder;
  }

  /**
   * Loads the weights onto {@code device}, each edited by {@code overlay} in float32 before it is rearranged or cast.
   *
   * @param config the sizes config.json states; its token-type count is not used, MPNet having no token types
   * @param dtype float32, or float16 (GPU only)
   * @param overlay a merged adapter's edits of the base weights, or {@link WeightOverlay#NONE}
   */
  public static MPNetModel load(Checkpoint checkpoint, BertConfig config, Device device, DataType dtype,
      WeightOverlay overlay) {
    NDManager manager = DjlRuntime.pytorch().newBaseManager(device);
    try {
      WeightLoader w = new WeightLoader(checkpoint, manager, dtype, overlay);
      return new MPNetModel(config, manager, dtype, MPNetEmbeddings.load(w.at("embeddings"), config),
          MPNetEncoder.load(w.at("encoder"), config, ScaledDotProductAttention.load((PtNDManager) manager)));
    } catch (RuntimeException e) {
      manager.close();
      throw e;
    }
  }

  /** @return the architecture's sizes */
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

  /** @return the manager that owns the weights */
  public NDManager manager() {
    return manager;
  }

  /**
   * Runs the encoder.
   *
   * @param ids [B, N] int64 real token ids
   * @param realMask [B, N] int64 mask of the real tokens, which numbers their positions when there is no prompt
   * @param attentionMask [B, M+N] in the model dtype: 1 attended, 0 padding, virtual tokens included
   * @param prompt [M, H] virtual-token embeddings placed before the real tokens, or {@code null}
   * @return [B, M+N, H] token embeddings, allocated from {@code ids}' manager
   */
  public NDArray forward(NDArray ids, NDArray realMask, NDArray attentionMask, NDArray prompt) {
    JniUtils.setGradMode(false);
    long batch = ids.getShape().get(0);
    long length = ids.getShape().get(1) + (prompt == null ? 0 : prompt.getShape().get(0));
    if (attentionMask.getShape().get(1) != length) {
      throw new IllegalArgumentException("attention mask has " + attentionMask.getShape().get(1)
          + " positions but the model attends to " + length + " (virtual and real tokens)");
    }
    try (NDArray maskBias = AttentionMasks.additiveBias(attentionMask, dtype)) {
      NDArray flat;
      try (NDArray embedded = embeddings.forward(ids, realMask, prompt)) {
        flat = embedded.reshape(batch * length, config.hiddenSize());
      }
      try (NDArray hidden = encoder.forward(flat, batch, length, maskBias)) {
        return hidden.reshape(batch, length, config.hiddenSize());
      }
    }
  }

  /**
   * @param length positions per row as the layers see them, virtual tokens included
   * @return the most rows per forward pass: all of them on a GPU; on CPU as many as keep each activation, the
   *     [rows, heads, L, L] attention bias included, within {@link CpuActivationBudget}
   */
  public int rowsPerPass(long length) {
    if (device().isGpu()) {
      return Integer.MAX_VALUE;
    }
    long widest = Math.max(Math.max(config.intermediateSize(), 3L * config.hiddenSize()),
        (long) config.numHeads() * length);
    return CpuActivationBudget.passRows(length, widest);
  }

  /** Frees the weights' native memory. */
  @Override
  public void close() {
    manager.close();
  }
}

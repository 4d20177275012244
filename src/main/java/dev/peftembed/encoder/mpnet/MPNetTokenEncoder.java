package dev.peftembed.encoder.mpnet;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.peftembed.encoder.AttentionMasks;
import dev.peftembed.encoder.TokenEncoder;
import dev.peftembed.encoder.WeightLoader;
import dev.peftembed.model.Tensor;

/**
 * The native MPNet encoder, optionally with a prompt-tuning (or P-tuning) adapter, called as PEFT calls it for
 * feature extraction (peft_model.py, {@code PeftModelForFeatureExtraction.forward}): M virtual-token embeddings go
 * before the real tokens as {@code inputs_embeds}, the attention mask gets M ones in front, and the output is M + N
 * long. Token types are ignored: MPNet has none.
 */
public final class MPNetTokenEncoder implements TokenEncoder {
  private final MPNetModel model;
  private final NDArray prompt;

  /**
   * @param model the base model; closed with this encoder
   * @param promptEmbeddings the adapter's [M, H] table, or {@code null} for the base model alone
   */
  public MPNetTokenEncoder(MPNetModel model, Tensor promptEmbeddings) {
    this.model = model;
    this.prompt = promptEmbeddings == null ? null : WeightLoader.toDevice(model.manager(), model.dtype(),
        promptEmbeddings.data(), promptEmbeddings.shape());
  }

  @Override
  public NDArray forward(NDArray ids, NDArray typeIds, NDArray attentionMask) {
    long m = prompt == null ? 0 : prompt.getShape().get(0);
    try (NDArray mask = AttentionMasks.withVirtualTokens(attentionMask, m, model.dtype())) {
      return model.forward(ids, attentionMask, mask, prompt);
    }
  }

  @Override
  public int rowsPerPass(int length) {
    return model.rowsPerPass(length + (prompt == null ? 0 : prompt.getShape().get(0)));
  }

  @Override
  public NDManager manager() {
    return model.manager();
  }

  @Override
  public Device device() {
    return model.device();
  }

  @Override
  public DataType dtype() {
    return model.dtype();
  }

  @Override
  public void close() {
    model.close();
  }
}

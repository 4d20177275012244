package dev.peftembed.encoder;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.peftembed.model.Tensor;

/**
 * The native BERT encoder, optionally with a prompt-tuning table, called as PEFT calls it for feature extraction:
 * M virtual tokens first, attention mask = M ones ++ the tokenizer's mask, token types dropped (type 0 everywhere).
 */
public final class PromptedBertEncoder implements TokenEncoder {
  private final BertModel model;
  private final NDArray prompt;

  /**
   * @param model the base model; closed with this encoder
   * @param promptEmbeddings the adapter's [M, H] table, or {@code null} for the base model alone
   */
  public PromptedBertEncoder(BertModel model, Tensor promptEmbeddings) {
    this.model = model;
    this.prompt = promptEmbeddings == null ? null : WeightLoader.toDevice(model.manager(), model.dtype(),
        promptEmbeddings.data(), promptEmbeddings.shape());
  }

  @Override
  public NDArray forward(NDArray ids, NDArray typeIds, NDArray attentionMask) {
    if (prompt == null) {
      try (NDArray mask = attentionMask.toType(model.dtype(), false)) {
        return model.forward(ids, typeIds, mask, null);
      }
    }
    long batch = ids.getShape().get(0);
    long m = prompt.getShape().get(0);
    try (NDArray ones = ids.getManager().ones(new Shape(batch, m), model.dtype());
        NDArray real = attentionMask.toType(model.dtype(), false);
        NDArray mask = NDArrays.concat(new NDList(ones, real), 1)) {
      return model.forward(ids, null, mask, prompt);
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

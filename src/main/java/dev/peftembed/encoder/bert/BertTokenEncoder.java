package dev.peftembed.encoder.bert;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.peftembed.encoder.TokenEncoder;
import dev.peftembed.encoder.WeightLoader;
import dev.peftembed.model.Tensor;

/**
 * The native BERT encoder, optionally with a prompt-learning adapter, called as PEFT calls it for feature extraction
 * (peft_model.py, {@code PeftModelForFeatureExtraction.forward}): the attention mask gets M ones in front, and token
 * types and positions are dropped (type 0 everywhere, positions from 0).
 * <ul>
 *   <li>Prompt tuning and P-tuning: M virtual-token embeddings go before the real tokens; the output is M + N long.
 *   <li>Prefix tuning: M keys and values go before the real ones in every layer, the real tokens are numbered from
 *       M, and the output stays N long.
 * </ul>
 */
public final class BertTokenEncoder implements TokenEncoder {
  private final BertModel model;
  private final NDArray prompt;
  private final AttentionPrefix prefix;

  private BertTokenEncoder(BertModel model, NDArray prompt, AttentionPrefix prefix) {
    this.model = model;
    this.prompt = prompt;
    this.prefix = prefix;
  }

  /**
   * @param model the base model; closed with this encoder
   * @param promptEmbeddings the adapter's [M, H] table, or {@code null} for the base model alone
   */
  public BertTokenEncoder(BertModel model, Tensor promptEmbeddings) {
    this(model, promptEmbeddings == null ? null : WeightLoader.toDevice(model.manager(), model.dtype(),
        promptEmbeddings.data(), promptEmbeddings.shape()), null);
  }

  /**
   * @param model the base model; closed with this encoder
   * @param prefixTable a prefix-tuning adapter's [M, layers·2·H] table
   */
  public static BertTokenEncoder withPrefix(BertModel model, Tensor prefixTable) {
    return new BertTokenEncoder(model, null,
        AttentionPrefix.fromTable(model.manager(), model.dtype(), prefixTable, model.config()));
  }

  @Override
  public NDArray forward(NDArray ids, NDArray typeIds, NDArray attentionMask) {
    long m = prompt != null ? prompt.getShape().get(0) : prefix != null ? prefix.length() : 0;
    if (m == 0) {
      try (NDArray mask = attentionMask.toType(model.dtype(), false)) {
        return model.forward(ids, typeIds, mask, null, null);
      }
    }
    long batch = ids.getShape().get(0);
    try (NDArray ones = ids.getManager().ones(new Shape(batch, m), model.dtype());
        NDArray real = attentionMask.toType(model.dtype(), false);
        NDArray mask = NDArrays.concat(new NDList(ones, real), 1)) {
      return model.forward(ids, null, mask, prompt, prefix);
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

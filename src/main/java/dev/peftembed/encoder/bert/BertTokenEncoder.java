package dev.peftembed.encoder.bert;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.peftembed.encoder.AttentionMasks;
import dev.peftembed.encoder.TokenEncoder;
import dev.peftembed.encoder.WeightDelta;
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
  private final LowRankTerms lora;
  private final boolean ownsModel;

  private BertTokenEncoder(BertModel model, NDArray prompt, AttentionPrefix prefix, LowRankTerms lora,
      boolean ownsModel) {
    this.model = model;
    this.prompt = prompt;
    this.prefix = prefix;
    this.lora = lora;
    this.ownsModel = ownsModel;
  }

  /**
   * @param model the base model; closed with this encoder
   * @param promptEmbeddings the adapter's [M, H] table, or {@code null} for the base model alone
   */
  public BertTokenEncoder(BertModel model, Tensor promptEmbeddings) {
    this(model, promptTable(model, promptEmbeddings), null, null, true);
  }

  /**
   * @param model the base model; closed with this encoder
   * @param prefixTable a prefix-tuning adapter's [M, layers·2·H] table
   */
  public static BertTokenEncoder withPrefix(BertModel model, Tensor prefixTable) {
    return new BertTokenEncoder(model, null,
        AttentionPrefix.fromTable(model.manager(), model.dtype(), prefixTable, model.config()), null, true);
  }

  /**
   * One adapter over a base model that other adapters share: the adapter's arrays live in the model's manager, and
   * closing this encoder leaves the model open for its owner to close. At most one of the three is given; none is
   * the base model alone.
   *
   * @param promptEmbeddings a prompt-tuning or P-tuning [M, H] table, or {@code null}
   * @param prefixTable a prefix-tuning [M, layers·2·H] table, or {@code null}
   * @param lora a LoRA adapter's delta, applied unmerged to each batch, or {@code null}
   */
  public static BertTokenEncoder sharing(BertModel model, Tensor promptEmbeddings, Tensor prefixTable,
      WeightDelta lora) {
    return new BertTokenEncoder(model, promptTable(model, promptEmbeddings),
        prefixTable == null ? null : AttentionPrefix.fromTable(model.manager(), model.dtype(), prefixTable,
            model.config()),
        lora == null ? null : LowRankTerms.load(model.manager(), model.dtype(), model.config(), lora), false);
  }

  private static NDArray promptTable(BertModel model, Tensor promptEmbeddings) {
    return promptEmbeddings == null ? null : WeightLoader.toDevice(model.manager(), model.dtype(),
        promptEmbeddings.data(), promptEmbeddings.shape());
  }

  @Override
  public NDArray forward(NDArray ids, NDArray typeIds, NDArray attentionMask) {
    long m = prompt != null ? prompt.getShape().get(0) : prefix != null ? prefix.length() : 0;
    try (NDArray mask = AttentionMasks.withVirtualTokens(attentionMask, m, model.dtype())) {
      return model.forward(ids, m == 0 ? typeIds : null, mask, prompt, prefix, lora);
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

  /** Frees the model, unless it is {@link #sharing} it with other adapters. */
  @Override
  public void close() {
    if (ownsModel) {
      model.close();
    }
  }
}

package dev.peftembed.encoder.mpnet;

import ai.djl.ndarray.NDArray;
import dev.peftembed.encoder.ScaledDotProductAttention;
import dev.peftembed.encoder.WeightLoader;
import dev.peftembed.encoder.bert.BertIntermediate;
import dev.peftembed.encoder.bert.BertOutput;
import dev.peftembed.model.BertConfig;

/**
 * {@code encoder.layer.N}: attention, then the feed-forward block, which is BERT's (transformers' MPNetIntermediate
 * and MPNetOutput are marked as copies of BertIntermediate and BertOutput).
 */
final class MPNetLayer {
  private final MPNetAttention attention;
  private final BertIntermediate intermediate;
  private final BertOutput output;

  private MPNetLayer(MPNetAttention attention, BertIntermediate intermediate, BertOutput output) {
    this.attention = attention;
    this.intermediate = intermediate;
    this.output = output;
  }

  static MPNetLayer load(WeightLoader w, BertConfig c, ScaledDotProductAttention kernel) {
    return new MPNetLayer(MPNetAttention.load(w.at("attention"), c, kernel),
        BertIntermediate.load(w.at("intermediate"), c), BertOutput.load(w.at("output"), c));
  }

  /** Closes each intermediate as soon as it is dead, as BertLayer does, so that freed memory is reused warm. */
  NDArray forward(NDArray x, long batch, long length, NDArray bias) {
    try (NDArray attended = attention.forward(x, batch, length, bias);
        NDArray expanded = intermediate.forward(attended)) {
      return output.forward(expanded, attended);
    }
  }
}

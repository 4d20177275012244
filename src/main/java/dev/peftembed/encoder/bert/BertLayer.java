package dev.peftembed.encoder.bert;

import ai.djl.ndarray.NDArray;
import dev.peftembed.encoder.ScaledDotProductAttention;
import dev.peftembed.encoder.WeightLoader;
import dev.peftembed.model.BertConfig;

/** {@code encoder.layer.N}: attention, then the feed-forward block. */
final class BertLayer {
  private final BertAttention attention;
  private final BertIntermediate intermediate;
  private final BertOutput output;

  private BertLayer(BertAttention attention, BertIntermediate intermediate, BertOutput output) {
    this.attention = attention;
    this.intermediate = intermediate;
    this.output = output;
  }

  static BertLayer load(WeightLoader w, BertConfig c, ScaledDotProductAttention kernel) {
    return new BertLayer(BertAttention.load(w.at("attention"), c, kernel), BertIntermediate.load(w.at("intermediate"), c),
        BertOutput.load(w.at("output"), c));
  }

  /**
   * Every intermediate is closed as soon as it is dead, so libtorch's allocator reuses warm memory instead of
   * faulting in fresh pages, which on CPU costs more than the arithmetic.
   */
  NDArray forward(NDArray x, AttentionInputs in, LayerTerms terms) {
    try (NDArray attended = attention.forward(x, in, terms);
        NDArray expanded = intermediate.forward(attended, terms.intermediate())) {
      return output.forward(expanded, attended, terms.output(), terms.outputNormShift());
    }
  }
}

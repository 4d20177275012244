package dev.peftembed.encoder.bert;

import ai.djl.ndarray.NDArray;
import dev.peftembed.encoder.ScaledDotProductAttention;
import dev.peftembed.encoder.WeightLoader;
import dev.peftembed.model.BertConfig;

/** {@code attention}: self-attention followed by its output block. */
final class BertAttention {
  private final BertSelfAttention self;
  private final BertSelfOutput output;

  private BertAttention(BertSelfAttention self, BertSelfOutput output) {
    this.self = self;
    this.output = output;
  }

  static BertAttention load(WeightLoader w, BertConfig c, ScaledDotProductAttention kernel) {
    return new BertAttention(BertSelfAttention.load(w.at("self"), c, kernel),
        BertSelfOutput.load(w.at("output"), c));
  }

  NDArray forward(NDArray x, AttentionInputs in, LayerTerms terms) {
    try (NDArray context = self.forward(x, in, terms.qkv())) {
      return output.forward(context, x, terms.attentionOutput(), terms.attentionNormShift());
    }
  }
}

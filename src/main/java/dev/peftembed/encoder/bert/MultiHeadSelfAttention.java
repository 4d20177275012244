package dev.peftembed.encoder.bert;

import ai.djl.ndarray.NDArray;
import dev.peftembed.encoder.LinearWeights;
import dev.peftembed.encoder.ScaledDotProductAttention;
import dev.peftembed.encoder.WeightLoader;
import dev.peftembed.model.BertConfig;

/**
 * DistilBERT's {@code transformer.layer.N.attention}: {@code q_lin}, {@code k_lin} and {@code v_lin} are BERT's
 * query, key and value (fused and run as {@link BertSelfAttention}); {@code out_lin} projects the context.
 * modeling_distilbert.py scales q by 1/√d after the projection; folding it into the weights is the same product.
 */
final class MultiHeadSelfAttention {
  private final BertSelfAttention self;
  private final LinearWeights outLin;

  private MultiHeadSelfAttention(BertSelfAttention self, LinearWeights outLin) {
    this.self = self;
    this.outLin = outLin;
  }

  static MultiHeadSelfAttention load(WeightLoader w, BertConfig c, ScaledDotProductAttention kernel) {
    int h = c.hiddenSize();
    return new MultiHeadSelfAttention(BertSelfAttention.fuse(w.at("q_lin"), w.at("k_lin"), w.at("v_lin"), c, kernel),
        LinearWeights.load(w.at("out_lin"), h, h));
  }

  /** @return out_lin(attention context), [B·L, H], before the residual */
  NDArray forward(NDArray x, AttentionInputs in) {
    try (NDArray context = self.forward(x, in, null)) {
      return outLin.forward(context);
    }
  }
}

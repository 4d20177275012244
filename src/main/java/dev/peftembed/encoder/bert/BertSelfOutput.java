package dev.peftembed.encoder.bert;

import ai.djl.ndarray.NDArray;
import dev.peftembed.encoder.LayerNormWeights;
import dev.peftembed.encoder.LinearWeights;
import dev.peftembed.encoder.WeightLoader;
import dev.peftembed.model.BertConfig;

/** {@code attention.output}: projection of the attention context, residual add, LayerNorm. */
final class BertSelfOutput {
  private final LinearWeights dense;
  private final LayerNormWeights layerNorm;

  private BertSelfOutput(LinearWeights dense, LayerNormWeights layerNorm) {
    this.dense = dense;
    this.layerNorm = layerNorm;
  }

  static BertSelfOutput load(WeightLoader w, BertConfig c) {
    int h = c.hiddenSize();
    return new BertSelfOutput(LinearWeights.load(w.at("dense"), h, h),
        LayerNormWeights.load(w.at("LayerNorm"), h, c.layerNormEps()));
  }

  /**
   * @return LayerNorm(context·Wᵀ + b + residual), [B·L, H], with an unmerged adapter's term and LayerNorm shift
   *     where not null
   */
  NDArray forward(NDArray context, NDArray residual, LowRankTerm term, NDArray normShift) {
    try (NDArray projected = dense.forward(context)) {
      LowRankTerm.addTo(term, projected, context);
      projected.addi(residual);
      return LowRankTerm.shifted(layerNorm.forward(projected), normShift);
    }
  }
}

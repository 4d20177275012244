package dev.peftembed.encoder.bert;

import ai.djl.ndarray.NDArray;
import dev.peftembed.encoder.LayerNormWeights;
import dev.peftembed.encoder.LinearWeights;
import dev.peftembed.encoder.WeightLoader;
import dev.peftembed.model.BertConfig;

/**
 * {@code output}: the feed-forward contraction, residual add, LayerNorm. Other architectures whose feed-forward block
 * is BERT's (MPNet's {@code MPNetOutput} is a copy of it) use this class as it is.
 */
public final class BertOutput {
  private final LinearWeights dense;
  private final LayerNormWeights layerNorm;

  private BertOutput(LinearWeights dense, LayerNormWeights layerNorm) {
    this.dense = dense;
    this.layerNorm = layerNorm;
  }

  /** Reads {@code dense} and {@code LayerNorm} from the loader's current prefix. */
  public static BertOutput load(WeightLoader w, BertConfig c) {
    return new BertOutput(LinearWeights.load(w.at("dense"), c.intermediateSize(), c.hiddenSize()),
        LayerNormWeights.load(w.at("LayerNorm"), c.hiddenSize(), c.layerNormEps()));
  }

  /** @return LayerNorm(intermediate·Wᵀ + b + residual), [B·L, H] */
  public NDArray forward(NDArray intermediate, NDArray residual) {
    return forward(intermediate, residual, null, null);
  }

  /**
   * @return LayerNorm(intermediate·Wᵀ + b + residual), [B·L, H], with an unmerged adapter's term and LayerNorm shift
   *     where not null
   */
  NDArray forward(NDArray intermediate, NDArray residual, LowRankTerm term, NDArray normShift) {
    try (NDArray projected = dense.forward(intermediate)) {
      LowRankTerm.addTo(term, projected, intermediate);
      projected.addi(residual);
      return LowRankTerm.shifted(layerNorm.forward(projected), normShift);
    }
  }
}

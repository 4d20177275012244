package dev.peftembed.encoder.mpnet;

import ai.djl.ndarray.NDArray;
import dev.peftembed.encoder.LayerNormWeights;
import dev.peftembed.encoder.ScaledDotProductAttention;
import dev.peftembed.encoder.WeightLoader;
import dev.peftembed.model.BertConfig;

/** {@code attention}: {@code attn}, then residual add and {@code LayerNorm}. */
final class MPNetAttention {
  private final MPNetSelfAttention attn;
  private final LayerNormWeights layerNorm;

  private MPNetAttention(MPNetSelfAttention attn, LayerNormWeights layerNorm) {
    this.attn = attn;
    this.layerNorm = layerNorm;
  }

  static MPNetAttention load(WeightLoader w, BertConfig c, ScaledDotProductAttention kernel) {
    return new MPNetAttention(MPNetSelfAttention.load(w.at("attn"), c, kernel),
        LayerNormWeights.load(w.at("LayerNorm"), c.hiddenSize(), c.layerNormEps()));
  }

  /** @return LayerNorm(attn(x) + x), [B·L, H] */
  NDArray forward(NDArray x, long batch, long length, NDArray bias) {
    try (NDArray projected = attn.forward(x, batch, length, bias)) {
      projected.addi(x);
      return layerNorm.forward(projected);
    }
  }
}

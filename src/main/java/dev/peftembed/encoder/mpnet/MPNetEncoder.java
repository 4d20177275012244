package dev.peftembed.encoder.mpnet;

import ai.djl.ndarray.NDArray;
import dev.peftembed.encoder.ScaledDotProductAttention;
import dev.peftembed.encoder.WeightLoader;
import dev.peftembed.model.BertConfig;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code encoder}: the layer stack and the relative position bias, which is built once per batch and added in every
 * layer (modeling_mpnet.py, {@code MPNetEncoder.forward}).
 */
final class MPNetEncoder {
  private final List<MPNetLayer> layers;
  private final RelativeAttentionBias relativeAttentionBias;

  private MPNetEncoder(List<MPNetLayer> layers, RelativeAttentionBias relativeAttentionBias) {
    this.layers = layers;
    this.relativeAttentionBias = relativeAttentionBias;
  }

  static MPNetEncoder load(WeightLoader w, BertConfig c, ScaledDotProductAttention kernel) {
    List<MPNetLayer> layers = new ArrayList<>(c.numLayers());
    for (int i = 0; i < c.numLayers(); i++) {
      layers.add(MPNetLayer.load(w.at("layer", i), c, kernel));
    }
    return new MPNetEncoder(List.copyOf(layers), RelativeAttentionBias.load(w.at("relative_attention_bias"), c));
  }

  /**
   * Consumes {@code x}: each layer's input is closed once the next output exists.
   *
   * @param x [B·L, H] embeddings
   * @param maskBias [B, 1, 1, L]: 0 where a key is attended, the dtype's minimum where not
   * @return [B·L, H]
   */
  NDArray forward(NDArray x, long batch, long length, NDArray maskBias) {
    NDArray bias;
    try (NDArray position = relativeAttentionBias.forLength(x.getManager(), length)) {
      bias = position.add(maskBias);
    }
    try (bias) {
      NDArray h = x;
      for (MPNetLayer layer : layers) {
        NDArray next = layer.forward(h, batch, length, bias);
        h.close();
        h = next;
      }
      return h;
    }
  }
}

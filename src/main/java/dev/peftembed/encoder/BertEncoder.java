package dev.peftembed.encoder;

import ai.djl.ndarray.NDArray;
import dev.peftembed.model.BertConfig;
import java.util.ArrayList;
import java.util.List;

/** {@code encoder}: the stack of transformer layers. */
final class BertEncoder {
  private final List<BertLayer> layers;

  private BertEncoder(List<BertLayer> layers) {
    this.layers = layers;
  }

  static BertEncoder load(WeightLoader w, BertConfig c, ScaledDotProductAttention kernel) {
    List<BertLayer> layers = new ArrayList<>(c.numLayers());
    for (int i = 0; i < c.numLayers(); i++) {
      layers.add(BertLayer.load(w.at("layer", i), c, kernel));
    }
    return new BertEncoder(List.copyOf(layers));
  }

  /** Consumes {@code x}: each layer's input is closed once the next output exists. */
  NDArray forward(NDArray x, long batch, long length, NDArray maskBias) {
    NDArray h = x;
    for (BertLayer layer : layers) {
      NDArray next = layer.forward(h, batch, length, maskBias);
      h.close();
      h = next;
    }
    return h;
  }
}

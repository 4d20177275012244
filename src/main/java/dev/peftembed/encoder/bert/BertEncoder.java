package dev.peftembed.encoder.bert;

import ai.djl.ndarray.NDArray;
import dev.peftembed.encoder.ScaledDotProductAttention;
import dev.peftembed.encoder.WeightLoader;
import dev.peftembed.model.BertConfig;
import java.util.ArrayList;
import java.util.List;

/** {@code encoder}: the stack of transformer layers. */
final class BertEncoder implements LayerStack {
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
  @Override
  public NDArray forward(NDArray x, AttentionInputs in, AttentionPrefix prefix, LowRankTerms lora) {
    NDArray h = x;
    for (int i = 0; i < layers.size(); i++) {
      LayerTerms terms = lora == null ? LayerTerms.NONE : lora.layer(i);
      NDArray next = layers.get(i).forward(h, in.forLayer(prefix, i), terms);
      h.close();
      h = next;
    }
    return h;
  }
}

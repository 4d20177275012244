package dev.peftembed.encoder.bert;

import ai.djl.ndarray.NDArray;
import dev.peftembed.encoder.ScaledDotProductAttention;
import dev.peftembed.encoder.WeightLoader;
import dev.peftembed.model.BertConfig;
import java.util.ArrayList;
import java.util.List;

/** DistilBERT's {@code transformer}: the stack of {@link TransformerBlock}s. It takes no prefix and no unmerged LoRA. */
final class DistilBertTransformer implements LayerStack {
  private final List<TransformerBlock> layers;

  private DistilBertTransformer(List<TransformerBlock> layers) {
    this.layers = layers;
  }

  static DistilBertTransformer load(WeightLoader w, BertConfig c, ScaledDotProductAttention kernel) {
    List<TransformerBlock> layers = new ArrayList<>(c.numLayers());
    for (int i = 0; i < c.numLayers(); i++) {
      layers.add(TransformerBlock.load(w.at("layer", i), c, kernel));
    }
    return new DistilBertTransformer(List.copyOf(layers));
  }

  @Override
  public NDArray forward(NDArray x, AttentionInputs in, AttentionPrefix prefix, LowRankTerms lora) {
    if (prefix != null) {
      throw new IllegalArgumentException("DistilBERT takes no prefix: its attention has no past keys and values");
    }
    if (lora != null) {
      throw new IllegalArgumentException("DistilBERT takes LoRA merged into its weights only, one adapter per model");
    }
    NDArray h = x;
    for (TransformerBlock layer : layers) {
      NDArray next = layer.forward(h, in);
      h.close();
      h = next;
    }
    return h;
  }
}

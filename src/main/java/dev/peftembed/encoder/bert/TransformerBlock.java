package dev.peftembed.encoder.bert;

import ai.djl.ndarray.NDArray;
import dev.peftembed.encoder.LayerNormWeights;
import dev.peftembed.encoder.ScaledDotProductAttention;
import dev.peftembed.encoder.WeightLoader;
import dev.peftembed.model.BertConfig;

/**
 * DistilBERT's {@code transformer.layer.N}: sa_layer_norm(attention(x) + x), then
 * output_layer_norm(ffn(y) + y) (modeling_distilbert.py, {@code TransformerBlock.forward}), which is
 * {@link BertLayer}'s computation under other names, run in the same order.
 */
final class TransformerBlock {
  private final MultiHeadSelfAttention attention;
  private final LayerNormWeights saLayerNorm;
  private final Ffn ffn;
  private final LayerNormWeights outputLayerNorm;

  private TransformerBlock(MultiHeadSelfAttention attention, LayerNormWeights saLayerNorm, Ffn ffn,
      LayerNormWeights outputLayerNorm) {
    this.attention = attention;
    this.saLayerNorm = saLayerNorm;
    this.ffn = ffn;
    this.outputLayerNorm = outputLayerNorm;
  }

  static TransformerBlock load(WeightLoader w, BertConfig c, ScaledDotProductAttention kernel) {
    int h = c.hiddenSize();
    return new TransformerBlock(MultiHeadSelfAttention.load(w.at("attention"), c, kernel),
        LayerNormWeights.load(w.at("sa_layer_norm"), h, c.layerNormEps()), Ffn.load(w.at("ffn"), c),
        LayerNormWeights.load(w.at("output_layer_norm"), h, c.layerNormEps()));
  }

  /** Closes each intermediate as soon as it is dead, as {@link BertLayer} does. */
  NDArray forward(NDArray x, AttentionInputs in) {
    NDArray attended;
    try (NDArray projected = attention.forward(x, in)) {
      projected.addi(x);
      attended = saLayerNorm.forward(projected);
    }
    try (attended; NDArray expanded = ffn.forward(attended)) {
      expanded.addi(attended);
      return outputLayerNorm.forward(expanded);
    }
  }
}

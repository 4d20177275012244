package dev.peftembed.bench;

import dev.peftembed.model.BertConfig;

/**
 * The floating-point operations of a BERT encoder forward pass over one text of L real tokens, counting a
 * multiply-add as 2 and only the matrix products, per layer:
 *
 * <pre>
 *   Q, K, V and attention-output projections   4 · 2·L·H·H  =  8·L·H²
 *   scores Q·Kᵀ and weights·V, all heads         2 · 2·L·L·H  =  4·L²·H
 *   feed-forward up and down                     2 · 2·L·H·I  =  4·L·H·I
 *   FLOPs(L) = layers · (8·L·H² + 4·L·H·I + 4·L²·H)
 * </pre>
 *
 * Embedding lookups, biases, LayerNorm, softmax, GELU and pooling are O(L·H) each and left out (under 1% here). L
 * is the text's own length, never the padded one: padding is work a system chose to do, not work the text needs, so
 * achieved GFLOP/s measure useful work. For all-MiniLM-L6-v2 (H 384, I 1536, 6 layers) a 40-token text costs about
 * 0.85 GFLOP.
 */
final class ModelFlops {
  private final long hidden;
  private final long intermediate;
  private final long layers;

  ModelFlops(int hidden, int intermediate, int layers) {
    this.hidden = hidden;
    this.intermediate = intermediate;
    this.layers = layers;
  }

  /** The counts of a model's config. */
  static ModelFlops of(BertConfig config) {
    return new ModelFlops(config.hiddenSize(), config.intermediateSize(), config.numLayers());
  }

  /** @return FLOPs of one forward pass over a text of {@code tokens} real tokens */
  double perText(int tokens) {
    double l = tokens;
    return layers * (8.0 * l * hidden * hidden + 4.0 * l * hidden * intermediate + 4.0 * l * l * hidden);
  }

  /**
   * @param lengths the token count each text is read with
   * @return FLOPs of one pass over all of them
   */
  double total(int[] lengths) {
    double sum = 0;
    for (int n : lengths) {
      sum += perText(n);
    }
    return sum;
  }
}

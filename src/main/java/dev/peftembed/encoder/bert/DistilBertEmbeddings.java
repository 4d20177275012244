package dev.peftembed.encoder.bert;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import dev.peftembed.encoder.LayerNormWeights;
import dev.peftembed.encoder.WeightLoader;
import dev.peftembed.model.BertConfig;

/**
 * DistilBERT's {@code embeddings}: word + position lookups, then LayerNorm; no token types (modeling_distilbert.py,
 * {@code Embeddings.forward}). Positions are {@code position_ids[:, :seq_length]} of whatever it embeds, so with
 * PEFT's {@code inputs_embeds} they run 0..M+N−1 over virtual and real tokens alike, as for BERT.
 */
final class DistilBertEmbeddings implements TokenEmbeddings {
  private final NDArray wordEmbeddings;
  private final NDArray positionEmbeddings;
  private final LayerNormWeights layerNorm;
  private final int maxPositions;

  private DistilBertEmbeddings(NDArray word, NDArray position, LayerNormWeights layerNorm) {
    this.wordEmbeddings = word;
    this.positionEmbeddings = position;
    this.layerNorm = layerNorm;
    this.maxPositions = (int) position.getShape().get(0);
  }

  static DistilBertEmbeddings load(WeightLoader w, BertConfig c) {
    int h = c.hiddenSize();
    return new DistilBertEmbeddings(
        w.at("word_embeddings").array("weight", c.vocabSize(), h),
        w.at("position_embeddings").array("weight", c.maxPositions(), h),
        LayerNormWeights.load(w.at("LayerNorm"), h, c.layerNormEps()));
  }

  /** {@code typeIds} are ignored, as DistilBertModel takes none; {@code past} is 0, as it takes no prefix. */
  @Override
  public NDArray forward(NDArray ids, NDArray typeIds, NDArray prompt, int past, NDArray normShift) {
    NDArray x = BertEmbeddings.words(wordEmbeddings, ids, prompt);
    long end = past + x.getShape().get(1);
    BertEmbeddings.requireFits(end, maxPositions);
    try (NDArray positions = positionEmbeddings.get(new NDIndex("{}:{}", past, end))) {
      x.addi(positions);
    }
    try (NDArray sum = x) {
      return LowRankTerm.shifted(layerNorm.forward(sum), normShift);
    }
  }
}

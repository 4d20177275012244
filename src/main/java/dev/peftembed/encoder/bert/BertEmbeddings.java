package dev.peftembed.encoder.bert;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import dev.peftembed.encoder.LayerNormWeights;
import dev.peftembed.encoder.WeightLoader;
import dev.peftembed.model.BertConfig;

/**
 * {@code embeddings}: word + position + token-type lookups, then LayerNorm.
 *
 * <p>With prompt tuning, PEFT calls the model with {@code inputs_embeds = cat(prompt, word_embeddings(ids))}, no
 * position ids and no token-type ids, so positions run 0..M+N−1 over virtual and real tokens alike and every
 * position gets token type 0. This module reproduces exactly that.
 *
 * <p>With prefix tuning, PEFT drops position and token-type ids the same way and passes P keys and values per layer
 * as the past: BERT then numbers the real tokens from P (modeling_bert.py, {@code BertEmbeddings.forward}:
 * {@code self.position_ids[:, past_key_values_length : seq_length + past_key_values_length]}).
 */
final class BertEmbeddings {
  private final NDArray wordEmbeddings;
  private final NDArray positionEmbeddings;
  private final NDArray tokenTypeEmbeddings;
  private final LayerNormWeights layerNorm;
  private final int maxPositions;

  private BertEmbeddings(NDArray word, NDArray position, NDArray tokenType, LayerNormWeights layerNorm) {
    this.wordEmbeddings = word;
    this.positionEmbeddings = position;
    this.tokenTypeEmbeddings = tokenType;
    this.layerNorm = layerNorm;
    this.maxPositions = (int) position.getShape().get(0);
  }

  static BertEmbeddings load(WeightLoader w, BertConfig c) {
    int h = c.hiddenSize();
    return new BertEmbeddings(
        w.at("word_embeddings").array("weight", c.vocabSize(), h),
        w.at("position_embeddings").array("weight", c.maxPositions(), h),
        w.at("token_type_embeddings").array("weight", c.typeVocabSize(), h),
        LayerNormWeights.load(w.at("LayerNorm"), h, c.layerNormEps()));
  }

  /**
   * @param ids [B, N] int64 token ids
   * @param typeIds [B, N] int64 token types, or {@code null} for type 0 everywhere
   * @param prompt [M, H] virtual-token embeddings to place first, or {@code null}
   * @param past positions already taken by a prefix: the first position id
   * @param normShift an unmerged adapter's shift of the LayerNorm bias, or {@code null}
   * @return [B, M+N, H]
   */
  NDArray forward(NDArray ids, NDArray typeIds, NDArray prompt, int past, NDArray normShift) {
    // Lookups into the weight tables would belong to the weights' manager, which lives as long as the model: every
    // result here is placed in the batch's manager instead, so that closing the batch frees it.
    NDManager batchScope = ids.getManager();
    long batch = ids.getShape().get(0);
    NDArray x = wordEmbeddings.get(batchScope, new NDIndex("{}", ids));
    if (prompt != null) {
      Shape promptShape = new Shape(batch, prompt.getShape().get(0), prompt.getShape().get(1));
      try (NDArray expanded = prompt.broadcast(promptShape); NDArray words = x) {
        expanded.attach(batchScope);
        x = NDArrays.concat(new NDList(expanded, words), 1);
      }
    }
    long end = past + x.getShape().get(1);
    if (end > maxPositions) {
      throw new IllegalStateException(end + " positions exceed max_position_embeddings " + maxPositions);
    }
    try (NDArray positions = positionEmbeddings.get(new NDIndex("{}:{}", past, end))) {
      x.addi(positions);
    }
    if (typeIds != null) {
      try (NDArray types = tokenTypeEmbeddings.get(batchScope, new NDIndex("{}", typeIds))) {
        x.addi(types);
      }
    } else {
      try (NDArray type0 = tokenTypeEmbeddings.get(0)) {
        x.addi(type0);
      }
    }
    try (NDArray sum = x) {
      return LowRankTerm.shifted(layerNorm.forward(sum), normShift);
    }
  }
}

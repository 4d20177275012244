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
final class BertEmbeddings implements TokenEmbeddings {
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

  @Override
  public NDArray forward(NDArray ids, NDArray typeIds, NDArray prompt, int past, NDArray normShift) {
    NDArray x = words(wordEmbeddings, ids, prompt);
    long end = past + x.getShape().get(1);
    requireFits(end, maxPositions);
    try (NDArray positions = positionEmbeddings.get(new NDIndex("{}:{}", past, end))) {
      x.addi(positions);
    }
    addTokenTypes(x, tokenTypeEmbeddings, typeIds);
    try (NDArray sum = x) {
      return LowRankTerm.shifted(layerNorm.forward(sum), normShift);
    }
  }

  /**
   * Looks the ids up and places the prompt, if any, before them: PEFT's {@code cat(prompt, word_embeddings(ids))}.
   * Lookups into the weight table would belong to the weights' manager, which lives as long as the model: the
   * result is placed in the batch's manager instead, so that closing the batch frees it.
   *
   * @return [B, M+N, H] in {@code ids}' manager
   */
  static NDArray words(NDArray table, NDArray ids, NDArray prompt) {
    NDManager batchScope = ids.getManager();
    long batch = ids.getShape().get(0);
    NDArray x = table.get(batchScope, new NDIndex("{}", ids));
    if (prompt == null) {
      return x;
    }
    Shape promptShape = new Shape(batch, prompt.getShape().get(0), prompt.getShape().get(1));
    try (NDArray expanded = prompt.broadcast(promptShape); NDArray words = x) {
      expanded.attach(batchScope);
      return NDArrays.concat(new NDList(expanded, words), 1);
    }
  }

  /** Adds each position's token-type row to {@code x}, type 0 everywhere when {@code typeIds} is {@code null}. */
  static void addTokenTypes(NDArray x, NDArray table, NDArray typeIds) {
    if (typeIds != null) {
      try (NDArray types = table.get(x.getManager(), new NDIndex("{}", typeIds))) {
        x.addi(types);
      }
    } else {
      try (NDArray type0 = table.get(0)) {
        x.addi(type0);
      }
    }
  }

  /** @throws IllegalStateException when position ids up to {@code end} (exclusive) would leave the table */
  static void requireFits(long end, long tableRows) {
    if (end > tableRows) {
      throw new IllegalStateException(end + " positions exceed max_position_embeddings " + tableRows);
    }
  }
}

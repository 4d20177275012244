package dev.peftembed.encoder.mpnet;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.peftembed.encoder.LayerNormWeights;
import dev.peftembed.encoder.WeightLoader;
import dev.peftembed.model.BertConfig;

/**
 * {@code embeddings}: word + position lookups, then LayerNorm; MPNet has no token types.
 *
 * <p>Positions follow RoBERTa's rule with MPNet's fixed {@code padding_idx} 1 (modeling_mpnet.py,
 * {@code MPNetEmbeddings.__init__}). From token ids, {@code create_position_ids_from_input_ids} numbers every
 * non-padding token from 2 on and gives padding position 1. With prompt tuning PEFT passes {@code inputs_embeds}
 * and no position ids, and {@code create_position_ids_from_inputs_embeds} numbers all M + N positions 2..M+N+1 in
 * sequence, virtual tokens and padding alike. Padding is told here by the attention mask as well as by id 1, since
 * our batches pad with id 0; the positions of padding never reach a real token, whose attention masks it out.
 */
final class MPNetEmbeddings {
  /** MPNet's {@code padding_idx}, fixed in the model code rather than read from config.json. */
  private static final int PADDING_IDX = BertConfig.MPNET_PADDING_IDX;

  private final NDArray wordEmbeddings;
  private final NDArray positionEmbeddings;
  private final LayerNormWeights layerNorm;
  private final int maxPositions;

  private MPNetEmbeddings(NDArray word, NDArray position, LayerNormWeights layerNorm) {
    this.wordEmbeddings = word;
    this.positionEmbeddings = position;
    this.layerNorm = layerNorm;
    this.maxPositions = (int) position.getShape().get(0);
  }

  static MPNetEmbeddings load(WeightLoader w, BertConfig c) {
    int h = c.hiddenSize();
    return new MPNetEmbeddings(
        w.at("word_embeddings").array("weight", c.vocabSize(), h),
        w.at("position_embeddings").array("weight", c.maxPositions(), h),
        LayerNormWeights.load(w.at("LayerNorm"), h, c.layerNormEps()));
  }

  /**
   * @param ids [B, N] int64 token ids
   * @param mask [B, N] int64 attention mask of the real tokens
   * @param prompt [M, H] virtual-token embeddings to place first, or {@code null}
   * @return [B, M+N, H]
   */
  NDArray forward(NDArray ids, NDArray mask, NDArray prompt) {
    // As in BertEmbeddings: lookups go to the batch's manager, so that closing the batch frees them.
    NDManager batchScope = ids.getManager();
    long batch = ids.getShape().get(0);
    NDArray x = wordEmbeddings.get(batchScope, new NDIndex("{}", ids));
    if (prompt == null) {
      try (NDArray words = x; NDArray positions = positionIds(ids, mask);
          NDArray looked = positionEmbeddings.get(batchScope, new NDIndex("{}", positions))) {
        x = words.add(looked);
      }
    } else {
      Shape promptShape = new Shape(batch, prompt.getShape().get(0), prompt.getShape().get(1));
      try (NDArray expanded = prompt.broadcast(promptShape); NDArray words = x) {
        expanded.attach(batchScope);
        x = NDArrays.concat(new NDList(expanded, words), 1);
      }
      long end = PADDING_IDX + 1 + x.getShape().get(1);
      requireFits(end - 1);
      try (NDArray positions = positionEmbeddings.get(new NDIndex("{}:{}", PADDING_IDX + 1, end))) {
        x.addi(positions);
      }
    }
    try (NDArray sum = x) {
      return layerNorm.forward(sum);
    }
  }

  /** cumsum(real)·real + padding_idx, where real is neither masked out nor id 1. */
  private NDArray positionIds(NDArray ids, NDArray mask) {
    requireFits(ids.getShape().get(1) + PADDING_IDX);
    try (NDArray notPadId = ids.neq(PADDING_IDX);
        NDArray notPadLong = notPadId.toType(DataType.INT64, false);
        NDArray real = notPadLong.mul(mask)) {
      return real.cumSum(1).muli(real).addi(PADDING_IDX);
    }
  }

  private void requireFits(long highestPosition) {
    if (highestPosition >= maxPositions) {
      throw new IllegalStateException("position " + highestPosition + " exceeds max_position_embeddings "
          + maxPositions + " (MPNet numbers tokens from " + (PADDING_IDX + 1) + ")");
    }
  }
}

package dev.peftembed.encoder.bert;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import dev.peftembed.encoder.LayerNormWeights;
import dev.peftembed.encoder.WeightLoader;
import dev.peftembed.model.BertConfig;

/**
 * {@code embeddings} of RoBERTa and XLM-RoBERTa: BERT's lookups and LayerNorm, with positions numbered after the
 * padding index. transformers' {@code XLMRobertaEmbeddings.forward} (modeling_xlm_roberta.py, a copy of
 * modeling_roberta.py's) takes one of two rules:
 * <ul>
 *   <li>Token ids given (the base model, LoRA, prefix tuning): {@code create_position_ids_from_input_ids}, i.e.
 *       {@code (cumsum(ids != pad) + past) * (ids != pad) + pad}; real tokens are numbered pad + past + 1 onward.
 *   <li>{@code inputs_embeds} given (PEFT's prompt tuning and P-tuning):
 *       {@code create_position_ids_from_inputs_embeds}, i.e. {@code arange(pad + 1, M + N + pad + 1)} for every
 *       row, virtual tokens and padding alike: it cannot tell padding from embeddings.
 * </ul>
 * Either way only the rows in use are gathered from the table, so an 8194-position table (bge-m3) costs nothing
 * per batch beyond the batch's own tokens.
 */
final class RobertaEmbeddings implements TokenEmbeddings {
  private final NDArray wordEmbeddings;
  private final NDArray positionEmbeddings;
  private final NDArray tokenTypeEmbeddings;
  private final LayerNormWeights layerNorm;
  private final int padTokenId;
  private final int maxPositions;

  private RobertaEmbeddings(NDArray word, NDArray position, NDArray tokenType, LayerNormWeights layerNorm,
      int padTokenId) {
    this.wordEmbeddings = word;
    this.positionEmbeddings = position;
    this.tokenTypeEmbeddings = tokenType;
    this.layerNorm = layerNorm;
    this.padTokenId = padTokenId;
    this.maxPositions = (int) position.getShape().get(0);
  }

  static RobertaEmbeddings load(WeightLoader w, BertConfig c) {
    int h = c.hiddenSize();
    return new RobertaEmbeddings(
        w.at("word_embeddings").array("weight", c.vocabSize(), h),
        w.at("position_embeddings").array("weight", c.maxPositions(), h),
        w.at("token_type_embeddings").array("weight", c.typeVocabSize(), h),
        LayerNormWeights.load(w.at("LayerNorm"), h, c.layerNormEps()),
        c.padTokenId());
  }

  @Override
  public NDArray forward(NDArray ids, NDArray typeIds, NDArray prompt, int past, NDArray normShift) {
    NDArray x = BertEmbeddings.words(wordEmbeddings, ids, prompt);
    long length = x.getShape().get(1);
    BertEmbeddings.requireFits(padTokenId + 1L + past + length, maxPositions);
    if (prompt != null) {
      long first = padTokenId + 1L;
      try (NDArray positions = positionEmbeddings.get(new NDIndex("{}:{}", first, first + length))) {
        x.addi(positions);
      }
    } else {
      try (NDArray positionIds = positionIds(ids, past);
          NDArray positions = positionEmbeddings.get(x.getManager(), new NDIndex("{}", positionIds))) {
        x.addi(positions);
      }
    }
    BertEmbeddings.addTokenTypes(x, tokenTypeEmbeddings, typeIds);
    try (NDArray sum = x) {
      return LowRankTerm.shifted(layerNorm.forward(sum), normShift);
    }
  }

  /** @return [B, N] int64 {@code (cumsum(ids != pad) + past) * (ids != pad) + pad}: padding keeps the pad row */
  private NDArray positionIds(NDArray ids, int past) {
    try (NDArray isToken = ids.neq(padTokenId); NDArray counted = isToken.toType(DataType.INT64, false)) {
      return counted.cumSum(1).addi(past).muli(counted).addi(padTokenId);
    }
  }
}

package dev.peftembed.encoder.bert;

import ai.djl.ndarray.NDArray;

/**
 * One layer's unmerged adapter terms; each is {@code null} where the adapter leaves the module as it is.
 *
 * @param qkv the fused query/key/value projection's term, laid out and scaled as the fused weight is
 * @param attentionOutput {@code attention.output.dense}
 * @param intermediate {@code intermediate.dense}
 * @param output {@code output.dense}
 * @param attentionNormShift added after {@code attention.output.LayerNorm}
 * @param outputNormShift added after {@code output.LayerNorm}
 */
record LayerTerms(LowRankTerm qkv, LowRankTerm attentionOutput, LowRankTerm intermediate, LowRankTerm output,
    NDArray attentionNormShift, NDArray outputNormShift) {

  /** A layer the adapter does not touch. */
  static final LayerTerms NONE = new LayerTerms(null, null, null, null, null, null);
}

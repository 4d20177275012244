package dev.peftembed.encoder.bert;

import ai.djl.ndarray.NDArray;

/**
 * What a layer's self-attention reads besides its hidden states.
 *
 * @param batch rows in the batch
 * @param length query positions per row: the hidden states' length
 * @param maskBias [B, 1, 1, P + length], added to the scores: 0 where a key is attended, the dtype's minimum where
 *     not; P is the prefix length, 0 without one
 * @param prefixKey [1, heads, P, d] keys placed before the layer's own, or {@code null}
 * @param prefixValue [1, heads, P, d] values placed before the layer's own, or {@code null}
 */
record AttentionInputs(long batch, long length, NDArray maskBias, NDArray prefixKey, NDArray prefixValue) {

  /** @return the inputs of the layer whose prefix, if any, {@code prefix} holds */
  AttentionInputs forLayer(AttentionPrefix prefix, int layer) {
    return prefix == null ? this
        : new AttentionInputs(batch, length, maskBias, prefix.key(layer), prefix.value(layer));
  }
}

package dev.peftembed.encoder.bert;

import ai.djl.ndarray.NDArray;

/** The stack of transformer layers after the embeddings: BERT's {@code encoder}, DistilBERT's {@code transformer}. */
interface LayerStack {
  /**
   * Runs every layer in order; consumes {@code x}.
   *
   * @param x [B·L, H] embedded tokens
   * @param prefix prefix tuning's keys and values, or {@code null}
   * @param lora an unmerged LoRA adapter's terms, or {@code null}
   * @return [B·L, H] last hidden state
   */
  NDArray forward(NDArray x, AttentionInputs in, AttentionPrefix prefix, LowRankTerms lora);
}

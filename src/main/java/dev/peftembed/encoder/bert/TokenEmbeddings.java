package dev.peftembed.encoder.bert;

import ai.djl.ndarray.NDArray;

/** The {@code embeddings} module of an architecture: token ids (and a prompt) in, the first layer's input out. */
interface TokenEmbeddings {
  /**
   * @param ids [B, N] int64 token ids
   * @param typeIds [B, N] int64 token types, or {@code null} for type 0 everywhere
   * @param prompt [M, H] virtual-token embeddings to place first, or {@code null}
   * @param past positions already taken by a prefix
   * @param normShift an unmerged adapter's shift of the LayerNorm bias, or {@code null}
   * @return [B, M+N, H], allocated from {@code ids}' manager
   */
  NDArray forward(NDArray ids, NDArray typeIds, NDArray prompt, int past, NDArray normShift);
}

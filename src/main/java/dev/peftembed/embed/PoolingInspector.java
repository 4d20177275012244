package dev.peftembed.embed;

import ai.djl.ndarray.NDArray;
import dev.peftembed.pooling.AlignedMask;
import dev.peftembed.text.TokenizedText;

/** What {@link SentenceEncoder#inspect} hands over: the inputs of the pooling step for one text. */
@FunctionalInterface
public interface PoolingInspector<T> {
  /**
   * @param tokens the text's tokens
   * @param attentionMask [1, N] int64: the tokenizer's mask
   * @param tokenEmbeddings [1, L, H]: the network's output, L = M + N
   * @param aligned the pooling mask this encoder builds, L long
   */
  T apply(TokenizedText tokens, NDArray attentionMask, NDArray tokenEmbeddings, AlignedMask aligned);
}

package dev.peftembed.bench;

import java.util.List;

/**
 * Generated texts and their lengths in model tokens, special tokens included.
 *
 * @param kind the length profile the texts were drawn from
 * @param texts the texts, in generation order
 * @param tokenLengths the token count of each text, as the model's tokenizer counts it
 */
public record Corpus(CorpusKind kind, List<String> texts, int[] tokenLengths) {

  /** @return the number of texts */
  public int size() {
    return texts.size();
  }

  /** @return the sum of all token counts: the real tokens a full pass reads */
  public long totalTokens() {
    long sum = 0;
    for (int n : tokenLengths) {
      sum += n;
    }
    return sum;
  }
}

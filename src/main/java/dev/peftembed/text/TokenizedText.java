package dev.peftembed.text;

/**
 * One text after tokenization, special tokens included, before padding.
 *
 * @param ids token ids
 * @param typeIds token-type ids
 * @param truncated whether tokens were cut to fit the length limit
 */
public record TokenizedText(long[] ids, long[] typeIds, boolean truncated) {
  /** @return the number of real tokens */
  public int length() {
    return ids.length;
  }
}

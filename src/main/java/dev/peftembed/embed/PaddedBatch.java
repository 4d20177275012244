package dev.peftembed.embed;

import ai.djl.ndarray.types.Shape;
import dev.peftembed.text.TokenizedText;
import java.util.Arrays;
import java.util.List;

/**
 * Token rows padded to the longest of them, as a forward pass takes them: ids, type ids and the attention mask, each
 * {@code rows × padded} in row-major order, with zeros after each row's real tokens.
 *
 * @param realLengths each row's real tokens
 */
record PaddedBatch(int rows, int padded, long[] ids, long[] typeIds, long[] attention, int[] realLengths) {

  static PaddedBatch of(List<TokenizedText> texts) {
    int rows = texts.size();
    int padded = paddedLength(texts);
    long[] ids = new long[rows * padded];
    long[] types = new long[rows * padded];
    long[] attention = new long[rows * padded];
    int[] realLengths = new int[rows];
    for (int b = 0; b < rows; b++) {
      TokenizedText t = texts.get(b);
      realLengths[b] = t.length();
      System.arraycopy(t.ids(), 0, ids, b * padded, t.length());
      System.arraycopy(t.typeIds(), 0, types, b * padded, t.length());
      Arrays.fill(attention, b * padded, b * padded + t.length(), 1L);
    }
    return new PaddedBatch(rows, padded, ids, types, attention, realLengths);
  }

  /** @return the length of the longest row, which every row is padded to */
  static int paddedLength(List<TokenizedText> texts) {
    int padded = 0;
    for (TokenizedText t : texts) {
      padded = Math.max(padded, t.length());
    }
    return padded;
  }

  /** @return [rows, padded] */
  Shape shape() {
    return new Shape(rows, padded);
  }
}

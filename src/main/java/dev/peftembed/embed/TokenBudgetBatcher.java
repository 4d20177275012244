package dev.peftembed.embed;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Cuts a window of tokenized texts into batches by a token budget, after sorting by length so that each batch pads
 * little: every batch has padded length × rows ≤ {@code maxBatchTokens} and rows ≤ {@code maxBatchRows}, and a batch
 * also ends before a text shorter than {@link #MIN_FILL} of its padded length, so no batch computes more than 18%
 * again of its real tokens in padding. On CPU, throughput follows the padded positions computed, not the batch count.
 * A text longer than the whole budget gets a batch of its own.
 */
public final class TokenBudgetBatcher {
  /**
   * The shortest text a batch takes, as a fraction of the batch's padded length: the more batches this cuts, the
   * less padding is computed, and batches this small still make matrix products large enough for full speed.
   */
  static final double MIN_FILL = 0.85;

  private final int maxBatchRows;
  private final int maxBatchTokens;

  /**
   * @param maxBatchRows the most rows in one batch
   * @param maxBatchTokens the most padded positions (virtual tokens included) in one batch
   */
  public TokenBudgetBatcher(int maxBatchRows, int maxBatchTokens) {
    if (maxBatchRows < 1 || maxBatchTokens < 1) {
      throw new IllegalArgumentException("batch size and token budget must be positive, got " + maxBatchRows
          + " and " + maxBatchTokens);
    }
    this.maxBatchRows = maxBatchRows;
    this.maxBatchTokens = maxBatchTokens;
  }

  /**
   * @param lengths positions per text as the model sees them (real plus virtual tokens)
   * @return batches of indices into {@code lengths}, longest texts first; every index appears exactly once
   */
  public List<int[]> batches(int[] lengths) {
    Integer[] order = new Integer[lengths.length];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    // Stable: equal lengths keep input order, so batches are deterministic.
    Arrays.sort(order, (a, b) -> Integer.compare(lengths[b], lengths[a]));
    List<int[]> batches = new ArrayList<>();
    int start = 0;
    while (start < order.length) {
      int padded = lengths[order[start]];
      int rows = Math.max(1, Math.min(maxBatchRows, maxBatchTokens / Math.max(1, padded)));
      int end = start + 1;
      while (end < order.length && end - start < rows && lengths[order[end]] >= padded * MIN_FILL) {
        end++;
      }
      int[] batch = new int[end - start];
      for (int i = start; i < end; i++) {
        batch[i - start] = order[i];
      }
      batches.add(batch);
      start = end;
    }
    return batches;
  }
}

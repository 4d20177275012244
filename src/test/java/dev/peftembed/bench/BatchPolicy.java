package dev.peftembed.bench;

import dev.peftembed.embed.TokenBudgetBatcher;
import java.util.ArrayList;
import java.util.List;

/** How a system groups texts into forward passes, as index batches over the texts' token lengths. */
interface BatchPolicy {

  /**
   * @param lengths token length of each text
   * @return batches of indices into {@code lengths}, every index exactly once
   */
  List<int[]> batches(int[] lengths);

  /** Fixed-size batches in input order, each padded to its longest text: how Spark NLP batches. */
  static BatchPolicy inputOrder(int rows) {
    return lengths -> {
      List<int[]> batches = new ArrayList<>();
      for (int start = 0; start < lengths.length; start += rows) {
        int[] batch = new int[Math.min(rows, lengths.length - start)];
        for (int i = 0; i < batch.length; i++) {
          batch[i] = start + i;
        }
        batches.add(batch);
      }
      return batches;
    };
  }

  /** Our batching: length-sorted, cut by a row limit and a padded-token budget. */
  static BatchPolicy tokenBudget(int maxRows, int maxTokens) {
    TokenBudgetBatcher batcher = new TokenBudgetBatcher(maxRows, maxTokens);
    return batcher::batches;
  }

  /** @return the real and padded tokens of one pass over {@code lengths} under this policy */
  default TokenCount count(int[] lengths) {
    long real = 0;
    long padded = 0;
    for (int[] batch : batches(lengths)) {
      int longest = 0;
      for (int i : batch) {
        real += lengths[i];
        longest = Math.max(longest, lengths[i]);
      }
      padded += (long) longest * batch.length;
    }
    return new TokenCount(real, padded);
  }
}

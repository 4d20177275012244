package dev.peftembed.join;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;

/**
 * The best matches found so far for each row of a block of left rows: one bounded heap per row, the worst match on
 * top, so a row keeps at most k matches however many it is offered. "Better" is a higher score, then (ties) a smaller
 * right id: the order is total, so the result is the same whichever way the right rows arrive and partial results
 * merge.
 */
final class BlockTopK implements Serializable {
  private final Object[] rowIds;
  private final int k;
  private final float minScore;
  private final float[] scores;
  private final Object[] ids;
  private final int[] sizes;

  /**
   * @param rowIds the left rows' ids
   * @param k matches kept per row
   * @param minScore the least score a match may have ({@code -∞} for none)
   */
  BlockTopK(Object[] rowIds, int k, float minScore) {
    this.rowIds = rowIds;
    this.k = k;
    this.minScore = minScore;
    this.scores = new float[rowIds.length * k];
    this.ids = new Object[rowIds.length * k];
    this.sizes = new int[rowIds.length];
  }

  /** @return the score a new match of {@code row} must reach (ties are then settled by id) */
  float floor(int row) {
    return sizes[row] < k ? minScore : scores[row * k];
  }

  /** Keeps the match if it is among the k best of {@code row} so far. */
  void offer(int row, float score, Object id) {
    if (score < minScore) {
      return;
    }
    int base = row * k;
    int size = sizes[row];
    if (size < k) {
      siftUp(base, size, score, id);
      sizes[row] = size + 1;
    } else if (better(score, id, scores[base], ids[base])) {
      siftDown(base, k, score, id);
    }
  }

  /** Adds another partial result for the same left rows; returns this. */
  BlockTopK merge(BlockTopK other) {
    for (int row = 0; row < rowIds.length; row++) {
      int base = row * k;
      for (int i = 0; i < other.sizes[row]; i++) {
        offer(row, other.scores[base + i], other.ids[base + i]);
      }
    }
    return this;
  }

  /** @return rows of left id, right id, score and rank (1 = best), best first within each left row */
  List<Row> rows() {
    List<Row> out = new ArrayList<>();
    for (int row = 0; row < rowIds.length; row++) {
      int base = row * k;
      Integer[] order = new Integer[sizes[row]];
      for (int i = 0; i < order.length; i++) {
        order[i] = base + i;
      }
      Arrays.sort(order, (a, b) -> order(scores[a], ids[a], scores[b], ids[b]));
      for (int r = 0; r < order.length; r++) {
        out.add(RowFactory.create(rowIds[row], ids[order[r]], scores[order[r]], r + 1));
      }
    }
    return out;
  }

  static boolean better(float score, Object id, float otherScore, Object otherId) {
    return order(score, id, otherScore, otherId) < 0;
  }

  /** @return negative when the first match is better: higher score first, then the smaller id */
  @SuppressWarnings({"unchecked", "rawtypes"})
  static int order(float score, Object id, float otherScore, Object otherId) {
    if (score != otherScore) {
      return score > otherScore ? -1 : 1;
    }
    return ((Comparable) id).compareTo(otherId);
  }

  /** Heap of the worst first: a parent is never better than its children. */
  private void siftUp(int base, int hole, float score, Object id) {
    while (hole > 0) {
      int parent = (hole - 1) / 2;
      if (!better(scores[base + parent], ids[base + parent], score, id)) {
        break;
      }
      scores[base + hole] = scores[base + parent];
      ids[base + hole] = ids[base + parent];
      hole = parent;
    }
    scores[base + hole] = score;
    ids[base + hole] = id;
  }

  /** Replaces the root (the worst) and restores the heap. */
  private void siftDown(int base, int size, float score, Object id) {
    int hole = 0;
    while (true) {
      int child = 2 * hole + 1;
      if (child >= size) {
        break;
      }
      if (child + 1 < size && better(scores[base + child], ids[base + child], scores[base + child + 1],
          ids[base + child + 1])) {
        child++;
      }
      if (!better(score, id, scores[base + child], ids[base + child])) {
        break;
      }
      scores[base + hole] = scores[base + child];
      ids[base + hole] = ids[base + child];
      hole = child;
    }
    scores[base + hole] = score;
    ids[base + hole] = id;
  }
}

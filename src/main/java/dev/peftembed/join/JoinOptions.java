package dev.peftembed.join;

import dev.peftembed.job.Partitions;

/**
 * What a similarity join selects and how it computes it. Immutable; start from {@link #defaults()}.
 *
 * @param idCol the id column: an integer type or string, unique, never null
 * @param embeddingCol the vector column: {@code array<float>}, {@code array<double>} or an ML {@code Vector}
 * @param k most matches per left row, best first; 0 for no limit (then a threshold is required)
 * @param threshold least cosine similarity of a match; {@code null} for none (then k is required)
 * @param method exact or LSH
 * @param blockRows rows per block of the exact join: bounds a task's memory (a block pair's score matrix is
 *     blockRows² floats)
 * @param broadcastBytes the exact join broadcasts the right side when its vectors take at most this many bytes, and
 *     cross-joins block pairs otherwise
 * @param lsh the hash family of the LSH method
 * @param partitions the partitions of the left side's blocks (exact) or of the bucket shuffles (LSH); auto gives
 *     {@link Partitions#WAVES} tasks per task slot, with blocks of at least 256 rows (exact) or shuffle partitions
 *     of at most 64 MiB (LSH)
 */
public record JoinOptions(String idCol, String embeddingCol, int k, Double threshold, JoinMethod method,
    int blockRows, long broadcastBytes, LshOptions lsh, Partitions partitions) {

  /**
   * 128 MiB: about 87k vectors of 384 floats. The driver collects the right side before broadcasting it, and each
   * executor keeps one deserialized copy in storage memory, which is about 400 MiB with Spark's default 1 GiB heap.
   */
  public static final long DEFAULT_BROADCAST_BYTES = 128L << 20;

  /** 2048 rows: a 16 MiB score matrix per block pair, which one matrix product fills at full speed. */
  public static final int DEFAULT_BLOCK_ROWS = 2048;

  public JoinOptions {
    if (idCol == null || idCol.isBlank() || embeddingCol == null || embeddingCol.isBlank()) {
      throw new IllegalArgumentException("the id and embedding column names must not be empty");
    }
    if (k < 0) {
      throw new IllegalArgumentException("k must be at least 1, got " + k);
    }
    if (threshold != null && !(threshold >= -1 && threshold <= 1)) {
      throw new IllegalArgumentException("threshold is a cosine similarity in [-1, 1], got " + threshold);
    }
    if (blockRows < 1) {
      throw new IllegalArgumentException("block rows must be at least 1, got " + blockRows);
    }
    if (broadcastBytes < 0) {
      throw new IllegalArgumentException("the broadcast limit must not be negative, got " + broadcastBytes);
    }
    if (method == null || lsh == null || partitions == null) {
      throw new IllegalArgumentException("method, LSH options and partitions must be set");
    }
  }

  /** Columns id and embedding, no selection yet, exact, 2048-row blocks, 128 MiB broadcast limit, auto partitions. */
  public static JoinOptions defaults() {
    return new JoinOptions("id", "embedding", 0, null, JoinMethod.EXACT, DEFAULT_BLOCK_ROWS,
        DEFAULT_BROADCAST_BYTES, LshOptions.defaults(), Partitions.AUTO);
  }

  /** @return whether a cosine threshold is set */
  public boolean hasThreshold() {
    return threshold != null;
  }

  /** @return whether matches per row are limited to k */
  public boolean hasK() {
    return k > 0;
  }

  /** @throws IllegalArgumentException if neither k nor a threshold selects the matches */
  void requireSelection() {
    if (!hasK() && !hasThreshold()) {
      throw new IllegalArgumentException("select matches with k, a threshold, or both");
    }
  }

  public JoinOptions withIdCol(String value) {
    return new JoinOptions(value, embeddingCol, k, threshold, method, blockRows, broadcastBytes, lsh, partitions);
  }

  public JoinOptions withEmbeddingCol(String value) {
    return new JoinOptions(idCol, value, k, threshold, method, blockRows, broadcastBytes, lsh, partitions);
  }

  /** @param value most matches per left row, or 0 for no limit */
  public JoinOptions withK(int value) {
    return new JoinOptions(idCol, embeddingCol, value, threshold, method, blockRows, broadcastBytes, lsh, partitions);
  }

  /** @param value least cosine similarity, or {@code null} for none */
  public JoinOptions withThreshold(Double value) {
    return new JoinOptions(idCol, embeddingCol, k, value, method, blockRows, broadcastBytes, lsh, partitions);
  }

  public JoinOptions withMethod(JoinMethod value) {
    return new JoinOptions(idCol, embeddingCol, k, threshold, value, blockRows, broadcastBytes, lsh, partitions);
  }

  public JoinOptions withBlockRows(int value) {
    return new JoinOptions(idCol, embeddingCol, k, threshold, method, value, broadcastBytes, lsh, partitions);
  }

  /** @param value 0 always cross-joins block pairs; {@link Long#MAX_VALUE} always broadcasts */
  public JoinOptions withBroadcastBytes(long value) {
    return new JoinOptions(idCol, embeddingCol, k, threshold, method, blockRows, value, lsh, partitions);
  }

  public JoinOptions withLsh(LshOptions value) {
    return new JoinOptions(idCol, embeddingCol, k, threshold, method, blockRows, broadcastBytes, value, partitions);
  }

  public JoinOptions withPartitions(Partitions value) {
    return new JoinOptions(idCol, embeddingCol, k, threshold, method, blockRows, broadcastBytes, lsh, value);
  }
}

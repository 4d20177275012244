package dev.peftembed.encoder;

/**
 * How many rows of a batch attend at once. The projections and the feed-forward block run on the whole batch, where
 * large matrix products are efficient; attention builds a [rows, heads, L, L] score tensor and a softmax of the same
 * size, which for long texts reaches hundreds of MB per batch. Cut into chunks that stay cache-sized, those tensors
 * are reused warm by the allocator instead of being mapped fresh and page-faulted on every layer.
 */
final class AttentionChunks {
  private AttentionChunks() {}

  /**
   * @param heads attention heads
   * @param length padded positions per row
   * @param scoreBytes the largest score tensor wanted, in bytes (fp32 counted; half precision only halves it)
   * @return rows per chunk, at least 1
   */
  static long rows(int heads, long length, long scoreBytes) {
    long perRow = 4L * heads * length * length;
    return Math.max(1, scoreBytes / perRow);
  }
}

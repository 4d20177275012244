package dev.peftembed.encoder;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;

/**
 * A network that turns a padded batch of token ids into token embeddings. Its output may be longer than its input
 * by the virtual tokens it prepends; the caller aligns the pooling mask to the output it gets.
 */
public interface TokenEncoder extends AutoCloseable {

  /**
   * @param ids [B, N] int64 token ids, right-padded
   * @param typeIds [B, N] int64 token-type ids
   * @param attentionMask [B, N] int64: 1 for real tokens, 0 for padding
   * @return [B, L, H] token embeddings, L ≥ N, allocated from {@code ids}' manager
   */
  NDArray forward(NDArray ids, NDArray typeIds, NDArray attentionMask);

  /**
   * How many rows one call to {@link #forward} should take, so that a pass stays within the memory the device reuses
   * well; callers run larger batches in several passes.
   *
   * @param length the padded length of the rows' token ids
   * @return the most rows per pass, at least 1
   */
  default int rowsPerPass(int length) {
    return Integer.MAX_VALUE;
  }

  /** @return the manager that owns the weights; batches allocate from sub-managers of it */
  NDManager manager();

  /** @return the device the network runs on */
  Device device();

  /** @return the compute dtype */
  DataType dtype();

  /** Frees native memory. */
  @Override
  void close();
}

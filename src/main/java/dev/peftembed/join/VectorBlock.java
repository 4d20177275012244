package dev.peftembed.join;

import java.io.Serializable;

/**
 * A block of rows as one matrix product wants it: their ids, and their unit vectors as one contiguous row-major
 * float matrix.
 *
 * @param index unique among the blocks of one table
 * @param ids {@code Long} or {@code String} ids, one per row
 * @param matrix {@code ids.length × dim} floats, row after row
 * @param dim the vectors' length
 */
record VectorBlock(long index, Object[] ids, float[] matrix, int dim) implements Serializable {

  int rows() {
    return ids.length;
  }

  /** @return the serialized size, about: what broadcasting or caching the block costs */
  long bytes() {
    return 4L * matrix.length + 48L * ids.length;
  }
}

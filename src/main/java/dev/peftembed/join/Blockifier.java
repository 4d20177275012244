package dev.peftembed.join;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * Cuts a table's rows into {@link VectorBlock}s of at most {@code blockRows} unit vectors, leaving out the vectors
 * without a direction. A partition yields its blocks one at a time, so a task holds one block, never a table.
 * Unless the user fixed their number, partitions are only rearranged when they would leave task slots idle (then
 * spread by a round-robin shuffle) or make blocks needlessly small (then coalesced, without a shuffle).
 */
final class Blockifier {
  /** Below this, a block's matrix product no longer pays for its call overhead. */
  private static final int MIN_BLOCK_ROWS = 256;

  private Blockifier() {}

  /**
   * @param table columns id and vector, vectors of one length
   * @param rows how many usable rows there are
   * @param parallelism partitions wanted for the tasks that stream these blocks (1 when they are collected)
   * @param fixed whether {@code parallelism} is the user's number, kept exactly, rather than a target that the rows
   *     and block sizes bound
   */
  static JavaRDD<VectorBlock> blocks(Dataset<Row> table, long rows, int blockRows, int parallelism, boolean fixed) {
    int current = table.javaRDD().getNumPartitions();
    Dataset<Row> spread;
    if (fixed) {
      spread = current == parallelism ? table : table.repartition(parallelism);
    } else {
      int wanted = (int) Math.max(1, Math.min(parallelism, (rows + MIN_BLOCK_ROWS - 1) / MIN_BLOCK_ROWS));
      int most = (int) Math.max(wanted, Math.min(Integer.MAX_VALUE, (rows + blockRows - 1) / blockRows));
      spread = current < wanted ? table.repartition(wanted) : current > most ? table.coalesce(most) : table;
    }
    return spread.javaRDD().mapPartitionsWithIndex((index, it) -> new BlockIterator(index, it, blockRows), true);
  }

  /** Consecutive usable rows of one partition, {@code blockRows} at a time; never an empty block. */
  private static final class BlockIterator implements Iterator<VectorBlock> {
    private final long partition;
    private final Iterator<Row> rows;
    private final int blockRows;
    private int made;
    private VectorBlock next;

    BlockIterator(int partition, Iterator<Row> rows, int blockRows) {
      this.partition = partition;
      this.rows = rows;
      this.blockRows = blockRows;
    }

    @Override
    public boolean hasNext() {
      if (next == null) {
        next = read();
      }
      return next != null;
    }

    @Override
    public VectorBlock next() {
      if (!hasNext()) {
        throw new NoSuchElementException();
      }
      VectorBlock block = next;
      next = null;
      return block;
    }

    private VectorBlock read() {
      List<Object> ids = new ArrayList<>();
      List<float[]> vectors = new ArrayList<>();
      while (rows.hasNext() && ids.size() < blockRows) {
        Row row = rows.next();
        float[] unit = UnitVectors.unit(row.getList(1));
        if (unit != null) {
          ids.add(row.get(0));
          vectors.add(unit);
        }
      }
      if (ids.isEmpty()) {
        return null;
      }
      int dim = vectors.get(0).length;
      float[] matrix = new float[ids.size() * dim];
      for (int i = 0; i < vectors.size(); i++) {
        System.arraycopy(vectors.get(i), 0, matrix, i * dim, dim);
      }
      // Unique per table: partition in the high bits, the block's position in its partition in the low ones.
      return new VectorBlock(partition << 32 | made++, ids.toArray(), matrix, dim);
    }
  }
}

package dev.peftembed.join;

import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pairs of a similarity join, lazily computed, and what the join read. The pairs read blocks the join cached or
 * broadcast: use them (write, collect, cache) before {@link #close()}, which releases those.
 */
public final class JoinResult implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(JoinResult.class);

  private final Dataset<Row> pairs;
  private final long leftRows;
  private final long rightRows;
  private final long skippedRows;
  private final String plan;
  private final List<Runnable> cleanup;

  JoinResult(Dataset<Row> pairs, long leftRows, long rightRows, long skippedRows, String plan,
      List<Runnable> cleanup) {
    this.pairs = pairs;
    this.leftRows = leftRows;
    this.rightRows = rightRows;
    this.skippedRows = skippedRows;
    this.plan = plan;
    this.cleanup = cleanup;
  }

  /**
   * @return columns {@code left_id}, {@code right_id} (the input's id type: long or string), {@code score} (cosine,
   *     float) and {@code rank} (int, 1 = best for its left row; ties in score rank the smaller right id first)
   */
  public Dataset<Row> pairs() {
    return pairs;
  }

  /** @return left rows that took part (those with a usable vector) */
  public long leftRows() {
    return leftRows;
  }

  /** @return right rows that took part; equal to {@link #leftRows()} in a self-join */
  public long rightRows() {
    return rightRows;
  }

  /** @return rows left out for a null, empty, zero or non-finite vector, both sides together (once in a self-join) */
  public long skippedRows() {
    return skippedRows;
  }

  /** @return how the pairs are computed: {@code broadcast} or {@code cross} (exact), or {@code lsh} */
  public String plan() {
    return plan;
  }

  /** Releases the cached blocks and broadcasts the pairs read. */
  @Override
  public void close() {
    for (Runnable r : cleanup) {
      try {
        r.run();
      } catch (RuntimeException e) {
        // Releasing is best effort: Spark's cleaner frees what is left once nothing refers to it.
        LOG.warn("could not release join data: {}", e.toString());
      }
    }
    cleanup.clear();
  }
}

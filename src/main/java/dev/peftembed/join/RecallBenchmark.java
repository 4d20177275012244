package dev.peftembed.join;

import java.util.Locale;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.storage.StorageLevel;

/**
 * Measures the LSH join against the exact one on the same tables: recall@k (the share of exact top-k pairs the LSH
 * top-k also finds) and the wall time of each, end to end from the input tables to materialized pairs.
 */
public final class RecallBenchmark {

  /**
   * @param k matches per left row
   * @param leftRows left rows joined
   * @param rightRows right rows joined
   * @param exactSeconds wall time of the exact join
   * @param lshSeconds wall time of the LSH join
   * @param exactPairs pairs the exact join returned
   * @param lshPairs pairs the LSH join returned (fewer when a row's buckets hold fewer than k others)
   * @param recall exact pairs also returned by LSH, over exact pairs
   */
  public record Report(int k, long leftRows, long rightRows, double exactSeconds, double lshSeconds, long exactPairs,
      long lshPairs, double recall) {

    /** @return candidate pairs the exact join scored per second */
    public double exactPairsPerSecond() {
      return leftRows * (double) rightRows / exactSeconds;
    }

    @Override
    public String toString() {
      return String.format(Locale.ROOT, "%,d x %,d rows, k=%d: exact %.2f s (%.3g pairs/s), lsh %.2f s, "
          + "recall@%d %.4f (%,d of %,d exact pairs; lsh returned %,d)", leftRows, rightRows, k, exactSeconds,
          exactPairsPerSecond(), lshSeconds, k, recall, Math.round(recall * exactPairs), exactPairs, exactPairs,
          lshPairs);
    }
  }

  private RecallBenchmark() {}

  /**
   * Runs both joins with {@code options} (its method is ignored; k is required).
   *
   * @param right the right table, or {@code null} for a self-join of {@code left}
   */
  public static Report measure(Dataset<Row> left, Dataset<Row> right, JoinOptions options) {
    if (!options.hasK()) {
      throw new IllegalArgumentException("recall@k needs k");
    }
    try (Timed exact = Timed.run(left, right, options.withMethod(JoinMethod.EXACT));
        Timed lsh = Timed.run(left, right, options.withMethod(JoinMethod.LSH))) {
      long found = exact.pairs.join(lsh.pairs, new String[] {JoinOutput.LEFT_ID, JoinOutput.RIGHT_ID}).count();
      double recall = exact.count == 0 ? 1.0 : (double) found / exact.count;
      return new Report(options.k(), exact.result.leftRows(), exact.result.rightRows(), exact.seconds, lsh.seconds,
          exact.count, lsh.count, recall);
    }
  }

  /** A join run to completion, its pairs cached for the comparison. */
  private static final class Timed implements AutoCloseable {
    final JoinResult result;
    final Dataset<Row> pairs;
    final long count;
    final double seconds;

    private Timed(JoinResult result, Dataset<Row> pairs, long count, double seconds) {
      this.result = result;
      this.pairs = pairs;
      this.count = count;
      this.seconds = seconds;
    }

    static Timed run(Dataset<Row> left, Dataset<Row> right, JoinOptions options) {
      long start = System.nanoTime();
      JoinResult result = right == null ? SimilarityJoin.selfJoin(left, options)
          : SimilarityJoin.join(left, right, options);
      Dataset<Row> pairs = result.pairs().select(JoinOutput.LEFT_ID, JoinOutput.RIGHT_ID)
          .persist(StorageLevel.MEMORY_AND_DISK());
      long count = pairs.count();
      return new Timed(result, pairs, count, (System.nanoTime() - start) / 1e9);
    }

    @Override
    public void close() {
      pairs.unpersist(false);
      result.close();
    }
  }
}

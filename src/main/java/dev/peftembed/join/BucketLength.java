package dev.peftembed.join;

import java.util.Locale;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.min;

/**
 * The LSH bucket length when none is given: {@code 3·r/√dim}, where r is the Euclidean distance of the farthest
 * neighbour worth finding. For unit vectors d² = 2 − 2·cos, so a cosine threshold T gives r = √(2 − 2T). With k and no
 * threshold, r comes from the median cosine of the k-th exact neighbour of a small sample of left rows.
 *
 * <p>Why r/√dim: a random unit projection of a difference vector of length r spreads it by about r/√dim, so this
 * bucket length makes a neighbour at distance r share a projection's bucket with a fixed probability in any
 * dimension.
 */
final class BucketLength {
  private static final Logger LOG = LoggerFactory.getLogger(BucketLength.class);
  private static final int SAMPLE_ROWS = 200;

  private BucketLength() {}

  static double resolve(EmbeddingTable left, EmbeddingTable right, boolean self, JoinOptions options, int dim) {
    if (options.lsh().bucketLength() != null) {
      return options.lsh().bucketLength();
    }
    double cosine = options.hasThreshold() ? options.threshold() : sampledKthCosine(left, right, self, options);
    double radius = Math.sqrt(Math.max(2 - 2 * cosine, 1e-6));
    return LshOptions.BUCKET_WIDTH_IN_SPREADS * radius / Math.sqrt(dim);
  }

  /** The median over sampled left rows of their k-th best exact cosine (or their last, with fewer matches). */
  private static double sampledKthCosine(EmbeddingTable left, EmbeddingTable right, boolean self,
      JoinOptions options) {
    long rows = left.stats().vectors();
    double fraction = Math.min(1.0, 2.0 * SAMPLE_ROWS / rows);
    Dataset<Row> sample = left.rowsWithVector().sample(false, fraction, options.lsh().seed()).limit(SAMPLE_ROWS);
    JoinOptions exact = options.withMethod(JoinMethod.EXACT).withThreshold(null);
    // The sample is a table of its own; in a self-join its rows still must not meet themselves.
    try (JoinResult r = ExactJoin.run(EmbeddingTable.prepared(sample), right, self, exact)) {
      double[] kth = r.pairs().groupBy(JoinOutput.LEFT_ID).agg(min(col(JoinOutput.SCORE))).collectAsList().stream()
          .mapToDouble(row -> row.getFloat(1)).sorted().toArray();
      double median = kth.length == 0 ? 0 : kth[kth.length / 2];
      LOG.info(String.format(Locale.ROOT, "LSH: median cosine of the %d-th neighbour over %d sampled rows: %.3f",
          options.k(), kth.length, median));
      return median;
    }
  }
}

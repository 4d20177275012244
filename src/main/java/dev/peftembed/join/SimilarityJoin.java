package dev.peftembed.join;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * Similarity joins over embedding columns: for each left row, the right rows whose vectors are most similar by cosine
 * (top k, at least a threshold, or both), exactly or through LSH; and near-duplicate clusters within one table.
 *
 * <p>Vectors need not be unit length: they are normalized first. Rows whose vector is null, empty, zero, not finite
 * or holds a null take no part and are counted as skipped. Ids must be unique and non-null.
 *
 * <pre>{@code
 * try (JoinResult r = SimilarityJoin.join(queries, documents, JoinOptions.defaults().withK(10))) {
 *   r.pairs().write().parquet(out);
 * }
 * }</pre>
 */
public final class SimilarityJoin {
  private SimilarityJoin() {}

  /**
   * Matches each left row with right rows. Reads both tables once to check and count them before returning.
   *
   * @throws IllegalArgumentException for missing or mistyped columns, null or repeated ids, vectors of different
   *     lengths, or options that select nothing
   */
  public static JoinResult join(Dataset<Row> left, Dataset<Row> right, JoinOptions options) {
    return run(EmbeddingTable.of(left, options.idCol(), options.embeddingCol()),
        EmbeddingTable.of(right, options.idCol(), options.embeddingCol()), false, options);
  }

  /**
   * Matches each row of a table with the other rows of the same table: a row is never paired with itself.
   *
   * @throws IllegalArgumentException as {@link #join}
   */
  public static JoinResult selfJoin(Dataset<Row> table, JoinOptions options) {
    EmbeddingTable t = EmbeddingTable.of(table, options.idCol(), options.embeddingCol());
    return run(t, t, true, options);
  }

  /**
   * Clusters of near-duplicates: the connected components of the graph whose edges join rows of cosine similarity
   * at least {@code threshold}. A cluster may hold pairs below the threshold, linked through rows between them.
   * Pairs are found with {@code options.method()}; the options' k and threshold are ignored.
   *
   * @return the clusters as rows {@code id}, {@code cluster_id} (the smallest id of the cluster) and
   *     {@code cluster_size}, for every row in a cluster of two or more (rows without a near-duplicate are not
   *     listed), with what the search read
   * @throws IllegalArgumentException as {@link #join}
   */
  public static ClusterResult nearDuplicates(Dataset<Row> table, double threshold, JoinOptions options) {
    EmbeddingTable t = EmbeddingTable.of(table, options.idCol(), options.embeddingCol());
    return NearDuplicates.run(t, options.withK(0).withThreshold(threshold));
  }

  static JoinResult run(EmbeddingTable left, EmbeddingTable right, boolean self, JoinOptions options) {
    return options.method() == JoinMethod.EXACT
        ? ExactJoin.run(left, right, self, options)
        : LshJoin.run(left, right, self, options);
  }
}

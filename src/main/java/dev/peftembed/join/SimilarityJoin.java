package dev.peftembed.join;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * Similarity joins over embedding columns: for each left row, the right rows whose vectors are most similar by cosine
 * (top k, at least a threshold, or both), exactly or through LSH.
 *
 * <p>Vectors need not be unit length: they are normalized first. Rows with a null, empty, zero or non-finite vector
 * take no part and are counted as skipped. Ids must be unique and non-null.
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

  static JoinResult run(EmbeddingTable left, EmbeddingTable right, boolean self, JoinOptions options) {
    return options.method() == JoinMethod.EXACT
        ? ExactJoin.run(left, right, self, options)
        : LshJoin.run(left, right, self, options);
  }
}

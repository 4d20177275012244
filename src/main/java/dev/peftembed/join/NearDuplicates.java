package dev.peftembed.join;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.expressions.Window;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;

/**
 * Near-duplicate clusters: a thresholded self-join gives the edges, {@link ConnectedComponents} the clusters, and each
 * cluster is named by its smallest id, so a deduplicated table keeps the rows whose id equals their cluster id (plus
 * every row not listed).
 */
final class NearDuplicates {
  private static final Logger LOG = LoggerFactory.getLogger(NearDuplicates.class);

  private NearDuplicates() {}

  /** @param options the threshold is the duplicate threshold; k must be 0 */
  static ClusterResult run(EmbeddingTable table, JoinOptions options) {
    try (JoinResult pairs = SimilarityJoin.run(table, table, true, options)) {
      // Each pair comes in both directions; one suffices. Selecting the ids only also drops the ranking.
      Dataset<Row> edges = pairs.pairs().filter(col(JoinOutput.LEFT_ID).lt(col(JoinOutput.RIGHT_ID)))
          .select(col(JoinOutput.LEFT_ID).as("src"), col(JoinOutput.RIGHT_ID).as("dst"));
      ConnectedComponents.Components components = ConnectedComponents.of(edges);
      Dataset<Row> clusters = components.labels()
          .withColumn("cluster_size", count(lit(1)).over(Window.partitionBy(col("component"))))
          .select(col("id"), col("component").as("cluster_id"), col("cluster_size"));
      LOG.info("near-duplicates at cosine >= {}: {} pairs, components settled in {} rounds", options.threshold(),
          components.edges(), components.rounds());
      return new ClusterResult(clusters, pairs.leftRows(), pairs.skippedRows(), components.edges(), pairs.plan());
    }
  }
}

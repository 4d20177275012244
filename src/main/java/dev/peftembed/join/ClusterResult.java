package dev.peftembed.join;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * Near-duplicate clusters of one table.
 *
 * @param clusters columns {@code id}, {@code cluster_id} (the smallest id in the cluster: stable, whatever order the
 *     rows come in) and {@code cluster_size}, one row per member of a cluster of two or more
 * @param rows rows that took part (with a usable vector)
 * @param skippedRows rows left out for a null, empty, zero or non-finite vector
 * @param pairs distinct pairs of rows at or above the threshold: the graph's edges
 * @param plan how the pairs were found, as {@link JoinResult#plan()}
 */
public record ClusterResult(Dataset<Row> clusters, long rows, long skippedRows, long pairs, String plan) {}

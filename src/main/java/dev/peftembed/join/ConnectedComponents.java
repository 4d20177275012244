package dev.peftembed.join;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.greatest;
import static org.apache.spark.sql.functions.least;
import static org.apache.spark.sql.functions.min;

/**
 * Connected components of an undirected graph given as an edge list, in Spark SQL, by the alternating large-star and
 * small-star rounds of Kiveris et al., "Connected Components in MapReduce and Beyond" (SoCC 2014). Edges are kept
 * oriented from the larger id to the smaller. Both steps keep every component connected and move edges towards
 * smaller ids, and they stop when each component is a star around its smallest id: then every edge names its
 * component. Rounds grow with the logarithm of the component size (squared, at worst), where plain minimum-label
 * propagation needs as many rounds as the longest path: a chain of near-duplicates can be long.
 */
final class ConnectedComponents {
  private static final Logger LOG = LoggerFactory.getLogger(ConnectedComponents.class);
  /** Far more than the logarithmic bound needs for any table; reaching it means a bug, not a big graph. */
  static final int MAX_ROUNDS = 200;

  /**
   * @param labels columns {@code id} and {@code component} (the component's smallest id), for every vertex with an
   *     edge
   * @param edges distinct undirected edges of the input
   * @param rounds large-star and small-star pairs run
   */
  record Components(Dataset<Row> labels, long edges, int rounds) {}

  private ConnectedComponents() {}

  /**
   * @param edges columns {@code src} and {@code dst} of one comparable type, each undirected edge in either or both
   *     directions
   * @throws IllegalStateException if the rounds do not settle within {@link #MAX_ROUNDS}
   */
  static Components of(Dataset<Row> edges) {
    Dataset<Row> e = edges.select(greatest(col("src"), col("dst")).as("a"), least(col("src"), col("dst")).as("b"))
        .filter(col("a").notEqual(col("b"))).distinct().localCheckpoint(true);
    long distinct = e.count();
    for (int round = 1; round <= MAX_ROUNDS; round++) {
      if (isStarForest(e)) {
        Dataset<Row> labels = e.select(col("a").as("id"), col("b").as("component"))
            .union(e.select(col("b").as("id"), col("b").as("component"))).distinct();
        LOG.info("connected components: {} edges, settled after {} rounds", distinct, round - 1);
        return new Components(labels, distinct, round - 1);
      }
      // Checkpointed each step: the plan stays one step long however many rounds run.
      e = smallStar(largeStar(e).localCheckpoint(true)).localCheckpoint(true);
    }
    throw new IllegalStateException("connected components did not settle in " + MAX_ROUNDS + " rounds");
  }

  /** Every vertex links its larger neighbours to the smallest of itself and its neighbours. */
  private static Dataset<Row> largeStar(Dataset<Row> e) {
    Dataset<Row> both = e.select(col("a").as("u"), col("b").as("v"))
        .union(e.select(col("b").as("u"), col("a").as("v")));
    Dataset<Row> smallest = both.groupBy("u").agg(min("v").as("n"))
        .select(col("u"), least(col("u"), col("n")).as("m"));
    return both.join(smallest, "u").filter(col("v").gt(col("u")))
        .select(col("v").as("a"), col("m").as("b")).distinct();
  }

  /** Every vertex links itself and its smaller neighbours to the smallest of them. */
  private static Dataset<Row> smallStar(Dataset<Row> e) {
    Dataset<Row> smallest = e.groupBy("a").agg(min("b").as("m"));
    Dataset<Row> neighbours = e.join(smallest, "a").filter(col("b").notEqual(col("m")))
        .select(col("b").as("a"), col("m").as("b"));
    return neighbours.union(smallest.select(col("a"), col("m").as("b"))).distinct();
  }

  /** Each vertex has at most one edge to a smaller id, and that one leads to a vertex with none: stars. */
  private static boolean isStarForest(Dataset<Row> e) {
    boolean oneEach = e.groupBy("a").agg(count("b").as("c")).filter(col("c").gt(1)).isEmpty();
    return oneEach && e.select(col("b").as("x")).join(e.select(col("a").as("x")), "x").isEmpty();
  }
}

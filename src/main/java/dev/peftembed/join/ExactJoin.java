package dev.peftembed.join;

import dev.peftembed.job.Partitions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;
import org.apache.spark.util.TaskCompletionListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;

/**
 * The exact join: both sides cut into blocks of unit vectors, every block pair multiplied once, each left row's best
 * matches kept in a bounded heap.
 *
 * <p>When the right side's vectors fit the broadcast limit, its blocks are broadcast and each task streams left
 * blocks against all of them: no shuffle, and each left row's heap sees every right row in one task. Otherwise block
 * pairs are cross-joined (both sides cached, so no block is recomputed per pair) and the partial heaps of each left
 * block are merged by key. Without k, every pair at or above the threshold is emitted and ranked by a window.
 */
final class ExactJoin {
  private static final Logger LOG = LoggerFactory.getLogger(ExactJoin.class);

  private ExactJoin() {}

  /**
   * @param self whether pairs of equal ids (a row with itself) are left out: a self-join, or a sample of a table
   *     joined with the table; the same table on both sides is read and blocked once
   * @throws IllegalArgumentException if the sides do not fit together or nothing is selected
   */
  static JoinResult run(EmbeddingTable left, EmbeddingTable right, boolean self, JoinOptions options) {
    options.requireSelection();
    boolean sameTable = left == right;
    EmbeddingTable.Stats ls = left.stats();
    EmbeddingTable.Stats rs = sameTable ? ls : right.stats();
    Sides.checkCompatible(left, right, ls, rs);
    SparkSession spark = left.rowsWithVector().sparkSession();
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    long skipped = sameTable ? ls.skipped() : ls.skipped() + rs.skipped();
    List<Runnable> cleanup = new ArrayList<>();

    long rightBytes = rs.vectors() * (4L * rs.dimension() + 48);
    boolean broadcast = rightBytes <= options.broadcastBytes();
    LOG.info(String.format(Locale.ROOT, "exact join: %,d x %,d rows of dimension %d, %s; right side %.1f MiB: %s",
        ls.vectors(), rs.vectors(), rs.dimension(), selection(options), rightBytes / 1048576.0,
        broadcast ? "broadcast" : "cross-joined block pairs"));
    // Left blocks are streamed by parallel tasks, in several waves so that a slow one does not hold the join.
    // Broadcast right blocks are collected, so their layout is moot; cross-joined ones are met by every left
    // partition, so one per slot keeps the pairs' tasks few.
    int slots = Partitions.slots(spark.sparkContext());
    Partitions partitions = options.partitions();
    JavaRDD<VectorBlock> leftBlocks = Blockifier.blocks(left.rowsWithVector(), ls.vectors(), options.blockRows(),
        partitions.isAuto() ? slots * Partitions.WAVES : partitions.count(), !partitions.isAuto());
    JavaRDD<VectorBlock> rightBlocks = sameTable ? leftBlocks
        : Blockifier.blocks(right.rowsWithVector(), rs.vectors(), options.blockRows(), broadcast ? 1 : slots, false);
    LOG.info("exact join: left side in {} partitions for {} task slots (--partitions {})",
        leftBlocks.getNumPartitions(), slots, partitions);

    JavaRDD<Row> rows = broadcast
        ? broadcastJoin(jsc, leftBlocks, rightBlocks, self, options, cleanup)
        : crossJoin(leftBlocks, rightBlocks, self, options, cleanup);
    Dataset<Row> pairs = options.hasK()
        ? spark.createDataFrame(rows, JoinOutput.rankedSchema(left.idType()))
        : JoinOutput.ranked(spark.createDataFrame(rows, JoinOutput.pairSchema(left.idType())));
    return new JoinResult(pairs, ls.vectors(), rs.vectors(), skipped, broadcast ? "broadcast" : "cross", cleanup);
  }

  private static JavaRDD<Row> broadcastJoin(JavaSparkContext jsc, JavaRDD<VectorBlock> leftBlocks,
      JavaRDD<VectorBlock> rightBlocks, boolean self, JoinOptions options, List<Runnable> cleanup) {
    if (leftBlocks == rightBlocks) {
      // Read twice, to collect and to stream: computed once.
      cache(leftBlocks, cleanup);
    }
    Broadcast<VectorBlock[]> right = jsc.broadcast(rightBlocks.collect().toArray(new VectorBlock[0]));
    cleanup.add(() -> right.destroy());
    int k = options.k();
    float minScore = JoinOutput.minScore(options);
    if (k > 0) {
      return leftBlocks.mapPartitions(blocks -> {
        BlockScorer scorer = taskScorer();
        return new FlatIterator<>(blocks, l -> {
          BlockTopK best = new BlockTopK(l.ids(), k, minScore);
          for (VectorBlock r : right.value()) {
            BlockMatches.offer(scorer.score(l, r), l, r, self, best);
          }
          return best.rows().iterator();
        });
      });
    }
    return leftBlocks.mapPartitions(blocks -> BlockMatches.above(
        new FlatIterator<>(blocks, l -> Arrays.stream(right.value()).map(r -> new Tuple2<>(l, r)).iterator()),
        taskScorer(), minScore, self));
  }

  private static JavaRDD<Row> crossJoin(JavaRDD<VectorBlock> leftBlocks, JavaRDD<VectorBlock> rightBlocks,
      boolean self, JoinOptions options, List<Runnable> cleanup) {
    // Each side is read once per partition of the other. Cached and materialized before the pairs start, a block
    // is computed once, not by every task that meets it first at the same time.
    cache(leftBlocks, cleanup);
    leftBlocks.count();
    if (rightBlocks != leftBlocks) {
      cache(rightBlocks, cleanup);
      rightBlocks.count();
    }
    int k = options.k();
    float minScore = JoinOutput.minScore(options);
    var pairs = leftBlocks.cartesian(rightBlocks);
    if (k > 0) {
      return pairs.mapPartitionsToPair(it -> {
        BlockScorer scorer = taskScorer();
        return new MappedIterator<>(it, p -> {
          BlockTopK partial = new BlockTopK(p._1().ids(), k, minScore);
          BlockMatches.offer(scorer.score(p._1(), p._2()), p._1(), p._2(), self, partial);
          return new Tuple2<>(p._1().index(), partial);
        });
      }).reduceByKey(BlockTopK::merge, leftBlocks.getNumPartitions())
          .flatMap(t -> t._2().rows().iterator());
    }
    return pairs.mapPartitions(it -> BlockMatches.above(it, taskScorer(), minScore, self));
  }

  private static void cache(JavaRDD<VectorBlock> blocks, List<Runnable> cleanup) {
    blocks.persist(StorageLevel.MEMORY_AND_DISK());
    cleanup.add(() -> blocks.unpersist(false));
  }

  /** A scorer for the running task, closed (its native memory freed) when the task ends. */
  private static BlockScorer taskScorer() {
    BlockScorer scorer = new BlockScorer();
    TaskContext task = TaskContext.get();
    if (task != null) {
      task.addTaskCompletionListener((TaskCompletionListener) t -> scorer.close());
    }
    return scorer;
  }

  private static String selection(JoinOptions o) {
    return (o.hasK() ? "top " + o.k() : "all pairs") + (o.hasThreshold() ? " with cosine >= " + o.threshold() : "");
  }

  /** Maps each element lazily. */
  private record MappedIterator<A, B>(Iterator<A> source, Function<A, B> map)
      implements Iterator<B> {
    @Override
    public boolean hasNext() {
      return source.hasNext();
    }

    @Override
    public B next() {
      return map.apply(source.next());
    }
  }
}

package dev.peftembed.join;

import dev.peftembed.job.Partitions;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;

/**
 * The approximate join: rows are hashed into banded LSH buckets ({@link LshHasher}), only pairs sharing a bucket are
 * scored (exactly, by their cosine), and each left row keeps its k best in a bounded heap, as the exact join does.
 * Without k, every scored pair at or above the threshold is emitted and ranked.
 */
final class LshJoin {
  private static final Logger LOG = LoggerFactory.getLogger(LshJoin.class);
  /** Shuffle partitions are sized for about this many bytes of bucket entries each. */
  private static final long PARTITION_BYTES = 64L << 20;

  private LshJoin() {}

  /**
   * @param self whether this is a self-join ({@code left == right}): each bucket is then paired with itself, and a
   *     row never with itself
   * @throws IllegalArgumentException if the sides do not fit together or nothing is selected
   */
  static JoinResult run(EmbeddingTable left, EmbeddingTable right, boolean self, JoinOptions options) {
    options.requireSelection();
    EmbeddingTable.Stats ls = left.stats();
    EmbeddingTable.Stats rs = self ? ls : right.stats();
    Sides.checkCompatible(left, right, ls, rs);
    SparkSession spark = left.rowsWithVector().sparkSession();
    long skipped = self ? ls.skipped() : ls.skipped() + rs.skipped();
    List<Runnable> nothingCached = new ArrayList<>();
    if (ls.vectors() == 0 || rs.vectors() == 0) {
      Dataset<Row> empty = spark.createDataFrame(Collections.emptyList(), JoinOutput.rankedSchema(left.idType()));
      return new JoinResult(empty, ls.vectors(), rs.vectors(), skipped, "lsh", nothingCached);
    }
    int dim = ls.dimension();
    double bucketLength = BucketLength.resolve(left, right, self, options, dim);
    LOG.info(String.format(Locale.ROOT, "LSH join: %,d x %,d rows of dimension %d, %d bands of %d hashes, bucket "
        + "length %.4g", ls.vectors(), rs.vectors(), dim, options.lsh().bands(), options.lsh().hashesPerBand(),
        bucketLength));
    LshHasher hasher = new LshHasher(left, options.lsh(), bucketLength);
    long entryBytes = 4L * dim + 8L * options.lsh().bands() + 64;
    long entries = (self ? ls.vectors() : ls.vectors() + rs.vectors()) * options.lsh().bands();
    int partitions = options.partitions().isAuto()
        ? (int) Math.max((long) Partitions.slots(spark.sparkContext()) * Partitions.WAVES,
            Math.min(Integer.MAX_VALUE, entries * entryBytes / PARTITION_BYTES + 1))
        : options.partitions().count();
    LOG.info("LSH join: {} shuffle partitions (--partitions {})", partitions, options.partitions());

    float minScore = JoinOutput.minScore(options);
    JavaPairRDD<Long, LshBucket.Entry> leftEntries = entries(hasher.members(left));
    JavaRDD<LshBucket.Match> matches = self
        ? leftEntries.groupByKey(partitions).flatMap(b -> LshBucket.within(array(b._2()), minScore))
        : leftEntries.cogroup(entries(hasher.members(right)), partitions)
            .flatMap(b -> LshBucket.across(array(b._2()._1()), array(b._2()._2()), minScore));

    Dataset<Row> pairs;
    if (options.hasK()) {
      int k = options.k();
      JavaRDD<Row> rows = matches.mapToPair(m -> new Tuple2<>(m.leftId(), m))
          .combineByKey(m -> {
            BlockTopK best = new BlockTopK(new Object[] {m.leftId()}, k, minScore);
            best.offer(0, m.score(), m.rightId());
            return best;
          }, (best, m) -> {
            best.offer(0, m.score(), m.rightId());
            return best;
          }, BlockTopK::merge, partitions)
          .flatMap(t -> t._2().rows().iterator());
      pairs = spark.createDataFrame(rows, JoinOutput.rankedSchema(left.idType()));
    } else {
      JavaRDD<Row> rows = matches.map(m -> RowFactory.create(m.leftId(), m.rightId(), m.score()));
      pairs = JoinOutput.ranked(spark.createDataFrame(rows, JoinOutput.pairSchema(left.idType())));
    }
    return new JoinResult(pairs, ls.vectors(), rs.vectors(), skipped, "lsh", nothingCached);
  }

  private static JavaPairRDD<Long, LshBucket.Entry> entries(JavaRDD<LshMember> members) {
    return members.flatMapToPair(m -> {
      List<Tuple2<Long, LshBucket.Entry>> out = new ArrayList<>(m.bandKeys().length);
      for (int band = 0; band < m.bandKeys().length; band++) {
        out.add(new Tuple2<>(m.bandKeys()[band], new LshBucket.Entry(band, m)));
      }
      return out.iterator();
    });
  }

  private static LshBucket.Entry[] array(Iterable<LshBucket.Entry> entries) {
    List<LshBucket.Entry> list = new ArrayList<>();
    entries.forEach(list::add);
    return list.toArray(new LshBucket.Entry[0]);
  }
}

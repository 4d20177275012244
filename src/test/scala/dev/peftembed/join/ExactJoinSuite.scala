package dev.peftembed.join

import dev.peftembed.join.JoinData._
import dev.peftembed.testkit.{LocalSparkSession, ScratchSpace}
import java.util.Random
import org.apache.spark.ml.linalg.Vectors
import org.apache.spark.sql.{DataFrame, Row}
import org.apache.spark.sql.types.{ArrayType, DoubleType, StringType, StructType}
import org.scalatest.funsuite.AnyFunSuite
import scala.jdk.CollectionConverters._

/** The exact join against a double-precision brute force, both plans, ties, thresholds and bad inputs. */
class ExactJoinSuite extends AnyFunSuite with LocalSparkSession with ScratchSpace {
  private val dim = 32
  private val k = 5

  /**
   * 5k queries, 20k documents, random directions, with planted exact ties: documents t and 19999 − t are equal for t
   * below 100 and queries 0..99 sit next to them (ranks 1 and 2 tie); seven documents are equal to one vector that
   * queries 100..109 sit next to (ranks 1..5 tie, and two of the seven must be left out: the largest ids).
   */
  private lazy val (queries, documents) = {
    val rnd = new Random(20240607L)
    val docs = Array.tabulate(20000)(i => i.toLong -> gaussian(rnd, dim))
    for (t <- 0 until 100) docs(19999 - t) = (19999L - t) -> docs(t)._2.clone()
    val shared = gaussian(rnd, dim)
    for (id <- sevenCopies) docs(id.toInt) = id -> shared.clone()
    val qs = Array.tabulate(5000) { i =>
      val v = if (i < 100) near(rnd, docs(i)._2, 0.05) else if (i < 110) near(rnd, shared, 0.05) else gaussian(rnd, dim)
      i.toLong -> v
    }
    (qs.toIndexedSeq, docs.toIndexedSeq)
  }
  private lazy val sevenCopies: Seq[Long] = Seq(16000L, 1000L, 11000L, 3500L, 13500L, 6000L, 8500L)
  private lazy val queryTable = table(spark, queries)
  private lazy val documentTable = table(spark, documents)
  private lazy val reference = time("brute force in double, 5k x 20k")(bruteTopK(queries, documents, k, self = false))

  private def time[T](what: String)(body: => T): T = {
    val start = System.nanoTime()
    val result = body
    info(f"$what: ${(System.nanoTime() - start) / 1e9}%.2f s")
    result
  }

  private def collectTopK(pairs: DataFrame): Map[Long, Seq[(Long, Float, Int)]] =
    pairs.collect().toSeq.groupBy(_.getLong(0)).map { case (l, rows) =>
      l -> rows.map(r => (r.getLong(1), r.getFloat(2), r.getInt(3))).sortBy(_._3)
    }

  /** Equal to the reference up to float precision: the same ids, except where the reference itself nearly ties. */
  private def assertMatchesReference(got: Map[Long, Seq[(Long, Float, Int)]]): Unit = {
    assert(got.keySet == reference.keySet)
    val docs = documents.map { case (id, v) => id -> unit(v) }.toMap
    var swaps = 0
    for ((q, expected) <- reference) {
      val actual = got(q)
      assert(actual.map(_._3) == (1 to k), s"ranks of $q")
      for (((id, score, rank), (refId, refScore)) <- actual.zip(expected)) {
        assert(math.abs(score - refScore) <= 1e-5, s"query $q rank $rank: $score vs $refScore")
        if (id != refId) {
          // Only a near-tie in double may order differently in float.
          val trueScore = dot(unit(queries(q.toInt)._2), docs(id))
          assert(math.abs(trueScore - refScore) <= 1e-6, s"query $q rank $rank: $id instead of $refId")
          swaps += 1
        }
      }
    }
    info(s"float near-ties ordered differently from double: $swaps of ${reference.size * k} ranks")
    for (t <- 0 until 100) assert(got(t.toLong).take(2).map(_._1) == Seq(t.toLong, 19999L - t), s"tie of query $t")
    for (q <- 100 until 110) assert(got(q.toLong).map(_._1) == sevenCopies.sorted.take(5), s"tie of query $q")
  }

  test("top 5 of 5k x 20k equals the double-precision brute force, ties to the smaller id, broadcast plan") {
    reference
    (queryTable, documentTable)
    val got = time("exact join 5k x 20k, dim 32, k 5, broadcast") {
      val r = SimilarityJoin.join(queryTable, documentTable, JoinOptions.defaults().withK(k))
      try {
        assert(r.plan == "broadcast" && r.leftRows == 5000 && r.rightRows == 20000 && r.skippedRows == 0)
        collectTopK(r.pairs)
      } finally r.close()
    }
    assertMatchesReference(got)
  }

  test("the same with block pairs cross-joined and small blocks: partial top-k lists merge to the same answer") {
    val got = time("exact join 5k x 20k, dim 32, k 5, cross-joined 1024-row blocks") {
      val r = SimilarityJoin.join(queryTable, documentTable,
        JoinOptions.defaults().withK(k).withBroadcastBytes(0).withBlockRows(1024))
      try {
        assert(r.plan == "cross")
        collectTopK(r.pairs)
      } finally r.close()
    }
    assertMatchesReference(got)
  }

  /** A small table of hand-made vectors: every pair's cosine is easy to check. */
  private lazy val small: IndexedSeq[(Long, Array[Float])] = {
    val rnd = new Random(5)
    (1L to 300L).map(id => id -> gaussian(rnd, 16).map(_ * (1 + id % 7).toFloat))
  }

  test("a self-join never pairs a row with itself, even when another row has the same vector") {
    val rows = small :+ (1000L -> small.head._2.clone())
    for (broadcast <- Seq(Long.MaxValue, 0L)) {
      val r = SimilarityJoin.selfJoin(table(spark, rows), JoinOptions.defaults().withK(3).withBroadcastBytes(broadcast)
        .withBlockRows(64))
      try {
        val got = collectTopK(r.pairs)
        assert(got.size == rows.size && got.values.forall(_.size == 3))
        assert(got.forall { case (l, matches) => matches.forall(_._1 != l) }, "identity pair")
        // The twin is someone else: each is the other's best match, at cosine 1.
        assert(got(1L).head._1 == 1000L && got(1000L).head._1 == 1L && got(1L).head._2 > 0.99999f)
        val expected = bruteTopK(rows, rows, 3, self = true)
        assert(got.map { case (l, m) => l -> m.map(_._1) } == expected.map { case (l, m) => l -> m.map(_._1) })
      } finally r.close()
    }
  }

  test("threshold only: every pair at or above it, ranked per left row, none below; both plans agree") {
    val t = 0.45
    val rows = small
    val expected = (for ((l, lv) <- rows; (r, rv) <- rows if l != r; s = dot(unit(lv), unit(rv)) if s >= t + 1e-6)
      yield (l, r)).toSet
    val borderline = (for ((l, lv) <- rows; (r, rv) <- rows if l != r; s = dot(unit(lv), unit(rv))
      if math.abs(s - t) <= 1e-6) yield (l, r)).toSet
    for (broadcast <- Seq(Long.MaxValue, 0L)) {
      val r = SimilarityJoin.selfJoin(table(spark, rows), JoinOptions.defaults().withThreshold(t)
        .withBroadcastBytes(broadcast).withBlockRows(100))
      try {
        val got = r.pairs.collect().toSeq
        assert(r.pairs.columns.toSeq == Seq("left_id", "right_id", "score", "rank"))
        val pairs = got.map(p => (p.getLong(0), p.getLong(1))).toSet
        assert(pairs.size == got.size && (pairs -- borderline) == expected)
        assert(got.forall(_.getFloat(2) >= t))
        for ((_, ranked) <- got.groupBy(_.getLong(0))) {
          val byRank = ranked.sortBy(_.getInt(3))
          assert(byRank.map(_.getInt(3)) == (1 to ranked.size))
          assert(byRank.map(_.getFloat(2)) == byRank.map(_.getFloat(2)).sorted(Ordering[Float].reverse))
        }
        info(s"${pairs.size} pairs at cosine >= $t among ${rows.size} rows (${r.plan})")
      } finally r.close()
    }
  }

  test("k and threshold together: at most k per row, all at or above the threshold") {
    val r = SimilarityJoin.selfJoin(table(spark, small), JoinOptions.defaults().withK(4).withThreshold(0.4))
    try {
      val got = collectTopK(r.pairs)
      val expected = bruteTopK(small, small, 4, self = true).map { case (l, m) => l -> m.filter(_._2 >= 0.4) }
        .filter(_._2.nonEmpty)
      assert(got.map { case (l, m) => l -> m.map(_._1) } == expected.map { case (l, m) => l -> m.map(_._1) })
    } finally r.close()
  }

  test("ML vectors, array<double>, string ids; vectors without a direction are skipped and counted") {
    val rows = small.take(40)
    val vectors = spark.createDataFrame(rows.map { case (id, v) => Row(s"doc-$id", Vectors.dense(v.map(_.toDouble))) }
      .asJava, new StructType().add("key", StringType).add("features", org.apache.spark.ml.linalg.SQLDataTypes.VectorType))
    val doubles = spark.createDataFrame((rows.map { case (id, v) => Row(s"doc-$id", v.map(_.toDouble).toSeq) } ++ Seq(
      Row("zero", Seq.fill(16)(0.0)), Row("nan", Seq.fill(16)(Double.NaN)), Row("null", null),
      Row("hole", Seq.tabulate(16)(i => if (i == 3) null else 1.0)))).asJava,
      new StructType().add("key", StringType).add("features", ArrayType(DoubleType, true)))
    val options = JoinOptions.defaults().withIdCol("key").withEmbeddingCol("features").withK(2)
    val r = SimilarityJoin.join(vectors, doubles, options)
    try {
      assert(r.leftRows == 40 && r.rightRows == 40 && r.skippedRows == 4)
      val got = r.pairs.collect()
      assert(got.length == 80 && got.forall(_.getString(0).startsWith("doc-")))
      // Each row finds itself first: the same vector on both sides.
      assert(got.filter(_.getInt(3) == 1).forall(p => p.getString(0) == p.getString(1) && p.getFloat(2) > 0.99999f))
    } finally r.close()
  }

  test("wrong columns and options fail with clear messages before any join work") {
    val t = table(spark, small.take(5))
    def error(body: => Any): String = intercept[IllegalArgumentException](body).getMessage
    assert(error(SimilarityJoin.selfJoin(t, JoinOptions.defaults().withK(1).withEmbeddingCol("vec"))) ==
      "embedding column \"vec\" not found; the table has columns [id, embedding]")
    assert(error(SimilarityJoin.selfJoin(t.selectExpr("id", "'x' AS embedding"), JoinOptions.defaults().withK(1))) ==
      "embedding column \"embedding\" must be array<float>, array<double> or an ML Vector, got string")
    assert(error(SimilarityJoin.selfJoin(t.selectExpr("CAST(id AS DOUBLE) AS id", "embedding"),
      JoinOptions.defaults().withK(1))) == "id column \"id\" must be an integer or string column, got double")
    assert(error(SimilarityJoin.selfJoin(t.union(t), JoinOptions.defaults().withK(1))) ==
      "id column \"id\" is not unique: 10 rows, 5 distinct ids")
    assert(error(SimilarityJoin.selfJoin(t, JoinOptions.defaults())) ==
      "select matches with k, a threshold, or both")
    assert(error(SimilarityJoin.join(t, t.selectExpr("CAST(id AS STRING) AS id", "embedding"),
      JoinOptions.defaults().withK(1))) == "the id columns differ in type: left bigint, right string")
    assert(error(SimilarityJoin.join(t, t.selectExpr("id", "slice(embedding, 1, 8) AS embedding"),
      JoinOptions.defaults().withK(1))) == "the vectors differ in length: left 16, right 8")
    assert(error(JoinOptions.defaults().withThreshold(1.5)) == "threshold is a cosine similarity in [-1, 1], got 1.5")
  }
}

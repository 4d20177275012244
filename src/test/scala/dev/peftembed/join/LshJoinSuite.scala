package dev.peftembed.join

import dev.peftembed.join.JoinData._
import dev.peftembed.testkit.{LocalSparkSession, ScratchSpace}
import java.util.Random
import org.scalatest.funsuite.AnyFunSuite

/** The LSH join against the exact one: recall, exact re-scoring, thresholds, and no identity pairs. */
class LshJoinSuite extends AnyFunSuite with LocalSparkSession with ScratchSpace {
  private val dim = 64

  /** 4000 rows in 200 clusters: within a cluster, cosines of about 0.8; across, about 0. */
  private lazy val rows = clustered(new Random(11), 4000, 200, dim, 0.6)
  private lazy val rowTable = table(spark, rows)

  test("top 10 by LSH: recall@10 against exact is reported and high on clustered data") {
    val report = RecallBenchmark.measure(rowTable, null, JoinOptions.defaults().withK(10))
    info(report.toString)
    assert(report.leftRows == 4000 && report.exactPairs == 40000)
    assert(report.recall >= 0.9, report)
  }

  test("LSH pairs carry exact scores, best first, never a row with itself; two tables work too") {
    val queries = clustered(new Random(12), 500, 200, dim, 0.6, firstId = 100000)
    val r = SimilarityJoin.join(table(spark, queries), rowTable,
      JoinOptions.defaults().withK(5).withMethod(JoinMethod.LSH))
    try {
      assert(r.plan == "lsh")
      val docs = rows.map { case (id, v) => id -> unit(v) }.toMap
      val qs = queries.map { case (id, v) => id -> unit(v) }.toMap
      val got = r.pairs.collect().toSeq
      assert(got.nonEmpty)
      for (p <- got) {
        assert(math.abs(p.getFloat(2) - dot(qs(p.getLong(0)), docs(p.getLong(1)))) <= 1e-6)
      }
      for ((_, ranked) <- got.groupBy(_.getLong(0))) {
        val byRank = ranked.sortBy(_.getInt(3))
        assert(byRank.map(_.getInt(3)) == (1 to ranked.size) && ranked.size <= 5)
        assert(byRank.map(_.getFloat(2)) == byRank.map(_.getFloat(2)).sorted(Ordering[Float].reverse))
      }
    } finally r.close()

    val self = SimilarityJoin.selfJoin(rowTable, JoinOptions.defaults().withK(3).withMethod(JoinMethod.LSH))
    try assert(self.pairs.filter("left_id = right_id").count() == 0)
    finally self.close()
  }

  test("threshold by LSH: a subset of the exact pairs, each once, and most of them") {
    val options = JoinOptions.defaults().withThreshold(0.7)
    def pairsOf(o: JoinOptions): Set[(Long, Long)] = {
      val r = SimilarityJoin.selfJoin(rowTable, o)
      try {
        val got = r.pairs.collect().map(p => (p.getLong(0), p.getLong(1)))
        assert(got.length == got.toSet.size, "a pair emitted twice")
        got.toSet
      } finally r.close()
    }
    val exact = pairsOf(options)
    val lsh = pairsOf(options.withMethod(JoinMethod.LSH))
    assert(lsh.subsetOf(exact) && lsh.forall { case (l, r) => l != r })
    val recall = lsh.size.toDouble / exact.size
    info(f"pairs at cosine >= 0.7: exact ${exact.size}, LSH ${lsh.size} (recall $recall%.4f)")
    assert(recall >= 0.9)
  }
}

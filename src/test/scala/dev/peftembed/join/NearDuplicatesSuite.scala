package dev.peftembed.join

import dev.peftembed.join.JoinData._
import dev.peftembed.testkit.{LocalSparkSession, ScratchSpace}
import java.util.Random
import org.apache.spark.sql.Row
import org.apache.spark.sql.types.{LongType, StructType}
import org.scalatest.funsuite.AnyFunSuite
import scala.jdk.CollectionConverters._

/** Near-duplicate clusters: planted clusters found exactly, and connected components against union-find. */
class NearDuplicatesSuite extends AnyFunSuite with LocalSparkSession with ScratchSpace {
  private val dim = 64
  private val threshold = 0.95

  /**
   * 1000 unrelated rows (random directions: no pair comes near 0.95), then planted clusters: 40 groups of 2 to 5
   * near-copies of one row (cosine about 0.999), and 5 chains of 6 rows, each a small step (cosine about 0.97) from
   * the previous, whose ends are far below the threshold: a chain is one cluster only through its middle. Ids are
   * shuffled, so a cluster's smallest id can be any of its rows.
   */
  private lazy val (rows, planted) = {
    val rnd = new Random(3)
    val vectors = collection.mutable.ArrayBuffer.fill(1000)(gaussian(rnd, dim))
    val clusters = collection.mutable.ArrayBuffer[Seq[Int]]()
    for (c <- 0 until 40) {
      val copies = Seq.fill(1 + c % 4)(near(rnd, vectors(c), 0.04))
      clusters += (c +: copies.indices.map(_ + vectors.size))
      vectors ++= copies
    }
    for (c <- 0 until 5) {
      val chain = Iterator.iterate(vectors(100 + c))(v => near(rnd, v, 0.25)).slice(1, 6).toSeq
      clusters += ((100 + c) +: chain.indices.map(_ + vectors.size))
      vectors ++= chain
    }
    val ids = rnd.ints(0, 1000000).distinct().limit(vectors.size).toArray.map(_.toLong)
    (vectors.indices.map(i => ids(i) -> vectors(i)), clusters.map(_.map(ids(_)).toSet).toSet)
  }

  test("planted duplicate groups and chains come back exactly, named by their smallest id; both methods") {
    val chainEnds = planted.filter(_.size == 6).map(_.toSeq)
    val t = table(spark, rows)
    for (method <- Seq(JoinMethod.EXACT, JoinMethod.LSH)) {
      val c = SimilarityJoin.nearDuplicates(t, threshold, JoinOptions.defaults().withMethod(method))
      val got = c.clusters.collect().toSeq
      assert(c.clusters.columns.toSeq == Seq("id", "cluster_id", "cluster_size"))
      val clusters = got.groupBy(_.getLong(1)).map { case (rep, members) =>
        val ids = members.map(_.getLong(0)).toSet
        assert(rep == ids.min, "representative")
        assert(members.forall(_.getLong(2) == ids.size), "cluster size")
        ids
      }.toSet
      assert(clusters == planted, method)
      assert(c.rows == rows.size && c.skippedRows == 0)
      info(s"$method: ${planted.size} clusters of ${got.size} rows from ${c.pairs} pairs at cosine >= $threshold")
    }
    // The chains hold pairs below the threshold: clusters are components, not cliques.
    val byId = rows.toMap
    assert(chainEnds.exists(chain => chain.combinations(2).exists { case Seq(a, b) =>
      dot(unit(byId(a)), unit(byId(b))) < threshold
    }))
  }

  test("connected components settle on long paths in few rounds and agree with union-find") {
    val rnd = new Random(9)
    val ids = rnd.ints(0, Int.MaxValue).distinct().limit(3000).toArray.map(_.toLong)
    // A path through 2000 shuffled ids, a star of 500, and 250 separate pairs.
    val edges = (0 until 1999).map(i => (ids(i), ids(i + 1))) ++ (2001 until 2500).map(i => (ids(2000), ids(i))) ++
      (2500 until 3000 by 2).map(i => (ids(i + 1), ids(i)))
    val df = spark.createDataFrame(edges.map { case (a, b) => Row(a, b) }.asJava,
      new StructType().add("src", LongType).add("dst", LongType))
    val components = ConnectedComponents.of(df)
    val got = components.labels.collect().map(r => r.getLong(0) -> r.getLong(1)).toMap

    val parent = collection.mutable.Map[Long, Long]()
    def find(x: Long): Long = { val p = parent.getOrElseUpdate(x, x); if (p == x) x else { val r = find(p); parent(x) = r; r } }
    edges.foreach { case (a, b) => parent(find(a)) = find(b) }
    val expected = ids.groupBy(find).values.flatMap(members => members.map(_ -> members.min)).toMap
    assert(got == expected)
    assert(components.edges == edges.size)
    info(s"${ids.length} vertices, ${edges.size} edges: ${components.rounds} rounds")
    assert(components.rounds <= 20)
  }
}

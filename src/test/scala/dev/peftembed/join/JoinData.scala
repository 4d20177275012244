package dev.peftembed.join

import dev.peftembed.testkit.Scratch
import java.util.Random
import org.apache.spark.sql.{DataFrame, Row, SparkSession}
import org.apache.spark.sql.types.{ArrayType, FloatType, LongType, StructType}
import scala.jdk.CollectionConverters._

/** Seeded vectors for the join suites, and the brute-force answer they are checked against. */
object JoinData {
  val schema: StructType = new StructType().add("id", LongType, false).add("embedding", ArrayType(FloatType, false))

  /** A random direction, not normalized to exactly 1 in float: the join must normalize. */
  def gaussian(rnd: Random, dim: Int): Array[Float] = Array.fill(dim)(rnd.nextGaussian().toFloat)

  /** `base` moved by noise of about `spread` in length. */
  def near(rnd: Random, base: Array[Float], spread: Double): Array[Float] = {
    val norm = math.sqrt(base.map(x => x.toDouble * x).sum)
    base.map(x => (x / norm + rnd.nextGaussian() * spread / math.sqrt(base.length)).toFloat)
  }

  /** `n` rows around `clusters` random centres, each moved by noise of about `spread`: neighbours are cluster-mates. */
  def clustered(rnd: Random, n: Int, clusters: Int, dim: Int, spread: Double, firstId: Long = 0):
      IndexedSeq[(Long, Array[Float])] = {
    val centres = Array.fill(clusters)(gaussian(rnd, dim))
    (0 until n).map(i => (firstId + i) -> near(rnd, centres(rnd.nextInt(clusters)), spread))
  }

  /**
   * The rows as a Parquet table, as a join meets them in use. (A table made from a local collection is planned as a
   * local relation, which Spark's optimizer evaluates on the driver every time a plan over it is optimized.)
   */
  def table(spark: SparkSession, rows: Seq[(Long, Array[Float])])(implicit scratch: Scratch): DataFrame = {
    val dir = scratch.dir("join-table").resolve("t").toString
    // Slices of about 1k rows keep each task's share of the data small.
    val slices = math.max(2, rows.size / 1000)
    spark.createDataFrame(spark.sparkContext.parallelize(rows.map { case (id, v) => Row(id, v.toSeq) }, slices), schema)
      .write.parquet(dir)
    spark.read.parquet(dir)
  }

  /** Unit vector in double from the float input, as the reference sees it. */
  def unit(v: Array[Float]): Array[Double] = {
    val n = math.sqrt(v.map(x => x.toDouble * x).sum)
    v.map(_ / n)
  }

  def dot(a: Array[Double], b: Array[Double]): Double = {
    var s = 0.0
    var i = 0
    while (i < a.length) { s += a(i) * b(i); i += 1 }
    s
  }

  /**
   * Top k of every left row by cosine in double precision, ties to the smaller right id; pairs of equal ids skipped
   * when `self`.
   */
  def bruteTopK(left: IndexedSeq[(Long, Array[Float])], right: IndexedSeq[(Long, Array[Float])], k: Int,
      self: Boolean): Map[Long, Seq[(Long, Double)]] = {
    val ids = right.map(_._1).toArray
    val vectors = right.map(r => unit(r._2)).toArray
    left.par { case (lid, lv) =>
      val q = unit(lv)
      // The k best so far, kept sorted best first; most candidates fail the first comparison.
      val bestScores = Array.fill(k)(Double.NegativeInfinity)
      val bestIds = Array.fill(k)(Long.MaxValue)
      var j = 0
      while (j < ids.length) {
        if (!(self && ids(j) == lid)) {
          val s = dot(q, vectors(j))
          val id = ids(j)
          if (s > bestScores(k - 1) || s == bestScores(k - 1) && id < bestIds(k - 1)) {
            var p = k - 1
            while (p > 0 && (s > bestScores(p - 1) || s == bestScores(p - 1) && id < bestIds(p - 1))) {
              bestScores(p) = bestScores(p - 1); bestIds(p) = bestIds(p - 1); p -= 1
            }
            bestScores(p) = s; bestIds(p) = id
          }
        }
        j += 1
      }
      lid -> bestIds.indices.filter(i => bestIds(i) != Long.MaxValue).map(i => (bestIds(i), bestScores(i)))
    }.toMap
  }

  /** Maps the rows on every core (the calling thread joins the common pool): the reference is the slow part. */
  private implicit class Par[A](rows: IndexedSeq[A]) {
    def par[B](f: A => B): IndexedSeq[B] =
      java.util.stream.IntStream.range(0, rows.length).parallel().mapToObj[B](i => f(rows(i)))
        .collect(java.util.stream.Collectors.toList[B]()).asScala.toIndexedSeq
  }
}

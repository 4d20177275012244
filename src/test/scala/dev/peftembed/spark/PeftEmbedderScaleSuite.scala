package dev.peftembed.spark

import dev.peftembed.testkit.LocalSparkSession
import org.apache.spark.sql.functions.{col, size}
import org.scalatest.funsuite.AnyFunSuite

/** Many partitions, many rows: nothing lost, nothing duplicated. Short texts keep it to about a minute on 2 cores. */
class PeftEmbedderScaleSuite extends AnyFunSuite with LocalSparkSession {

  private val rows = 20000
  private val partitions = 37

  test(s"$rows rows over $partitions partitions come out complete: ids equal as a set and as a multiset") {
    val input = spark.range(0, rows, 1, partitions).selectExpr("id",
      """case when id % 1000 = 7 then null
        |  else concat('note ', id, ' on ',
        |    element_at(array('rivers', 'tax law', 'chess openings', 'sourdough bread', 'modal jazz', 'tides'),
        |      cast(id % 6 + 1 as int)))
        |end as text""".stripMargin)
    assert(input.rdd.getNumPartitions == partitions)
    val stage = new PeftEmbedder().setMaxSeqLength(16).setMaxBatchTokens(2048).setNumTokensCol("n")

    val start = System.nanoTime()
    val out = stage.transform(input)
      .select(col("id"), col("embedding").isNull.as("missing"), size(col("embedding")).as("dims"), col("n"))
      .collect()
    val seconds = (System.nanoTime() - start) / 1e9
    info(f"$rows rows in $seconds%.1f s: ${rows / seconds}%.0f rows/s on local[2] " +
      s"(${stage.modelLoads()} model load(s) in this job)")

    val ids = out.map(_.getLong(0))
    assert(ids.length == rows)
    assert(ids.toSet == (0L until rows).toSet, "as a set")
    assert(ids.sorted.toSeq == (0L until rows), "as a multiset: no id twice")
    val (nulls, embedded) = out.partition(_.getBoolean(1))
    assert(nulls.map(_.getLong(0)).forall(_ % 1000 == 7) && nulls.length == rows / 1000)
    assert(embedded.forall(r => r.getInt(2) == 384 && r.getInt(3) <= 16))
  }
}

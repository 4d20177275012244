package dev.peftembed.spark

import dev.peftembed.model.ModelFormatException
import com.fasterxml.jackson.databind.ObjectMapper
import dev.peftembed.cli.Main
import dev.peftembed.testkit.{AdapterMix, Console, LocalSparkSession, ScratchSpace, VectorMath}
import java.nio.file.Files
import org.apache.spark.sql.Row
import org.apache.spark.sql.types.{DataTypes, StructType}
import org.scalatest.funsuite.AnyFunSuite
import scala.jdk.CollectionConverters._

/** The stage with named adapters of every kind over one base model, on local Spark with several partitions. */
class MultiAdapterStageSuite extends AnyFunSuite with LocalSparkSession with ScratchSpace {
  private val schema = new StructType().add("id", DataTypes.IntegerType).add("text", DataTypes.StringType)
    .add("which", DataTypes.StringType)

  private def stage: PeftEmbedder = new PeftEmbedder().setModelPath(AdapterMix.model.dir.toString)
    .setAdapters(AdapterMix.specs: _*).setAdapterCol("which").setDevice("cpu").setErrorCol("error")

  test("every row of a shuffled mix of 4 adapters and the base model gets its single-adapter vector, " +
    "the base weights loaded once") {
    val rows = AdapterMix.rows.map(r => Row(r.id, r.text, r.adapter.orNull))
    val docs = spark.createDataFrame(rows.asJava, schema).repartition(3)
    val embedder = stage
    val out = embedder.transform(docs).collect()
    assert(out.map(_.getInt(0)).sorted.toSeq == AdapterMix.rows.map(_.id).sorted, "rows lost or duplicated")
    val vectors = out.map(r => r.getInt(0) -> r.getAs[scala.collection.Seq[Float]]("embedding").toArray).toMap
    val (reference, single) = AdapterMix.check(vectors)
    info(s"stage, ${rows.size} rows over 4 adapters and the base: Python references $reference; " +
      f"worst max|Δ| from single-adapter runs $single%.2e")
    assert(embedder.modelLoads() == 1, "one executor loads the base model once, whatever the adapters")
  }

  test("a row naming an undeclared adapter is kept with a null embedding and an error naming the adapter") {
    val docs = spark.createDataFrame(Seq(Row(1, "a cat", "lora-all"), Row(2, "a dog", "nope"),
      Row(3, "a bird", null)).asJava, schema)
    val out = stage.transform(docs).collect().sortBy(_.getInt(0))
    assert(out.length == 3)
    assert(out(1).isNullAt(out(1).fieldIndex("embedding")))
    assert(out(1).getAs[String]("error").startsWith("unknown adapter \"nope\" (declared: "))
    assert(Seq(0, 2).forall(i => !out(i).isNullAt(out(i).fieldIndex("embedding")) && out(i).isNullAt(
      out(i).fieldIndex("error"))))
  }

  test("named adapters are checked on the driver: a bad one, a missing column, adapterPath beside them") {
    val docs = spark.createDataFrame(Seq(Row(1, "x", null)).asJava, schema)
    val bad = scratch.dir("bad-adapter")
    Files.writeString(bad.resolve("adapter_config.json"), """{"peft_type": "LORA", "r": 0}""")
    val e = intercept[ModelFormatException](stage.setAdapters(s"bad=$bad").transform(docs))
    assert(e.getMessage.contains(bad.resolve("adapter_config.json").toString) && !e.getMessage.contains("\n"))
    val noColumn = intercept[IllegalArgumentException](stage.setAdapterCol("adapter").transform(docs))
    assert(noColumn.getMessage.startsWith("adapter column \"adapter\" does not exist"))
    val both = intercept[IllegalArgumentException](stage.setAdapterPath(AdapterMix.adapters("prefix").toString)
      .transform(docs))
    assert(both.getMessage.contains("cannot be set with named adapters"))
    assert(intercept[IllegalArgumentException](new PeftEmbedder().setAdapters("x=/a", "x=/b")).getMessage ==
      "adapter name \"x\" is given twice; each name must be unique")
  }

  test("the embed command with named adapters: each row its adapter's vector, unknown_adapter in the summary") {
    val dir = scratch.dir("embed-named")
    val picked = AdapterMix.rows.filter(r => r.adapter.forall(Set("lora-all", "prefix"))).take(8)
    val json = new ObjectMapper()
    def line(text: String, which: String) = json.writeValueAsString(Map("text" -> text, "which" -> which).asJava)
    // No id column: generated ids are row positions, and the adapter column must survive their generation.
    val lines = picked.map(r => line(r.text, r.adapter.orNull)) ++ Seq(line("a dog", "nope"), line(null, "nope"))
    val in = Files.write(dir.resolve("in.jsonl"), lines.asJava)
    val (code, out, err) = Console.capture(Main.run("embed", "--model", AdapterMix.model.dir.toString, "--input",
      in.toString, "--output", dir.resolve("out").toString, "--output-format", "jsonl", "--device", "cpu",
      "--adapter", s"lora-all=${AdapterMix.adapters("lora-all")}", "--adapter",
      s"prefix=${AdapterMix.adapters("prefix")}", "--adapter-col", "which", "--master", "local[2]"))
    assert(code == 0, err)
    val summary = json.readTree(out.trim.linesIterator.toSeq.last)
    def count(key: String) = summary.get(key).asLong
    assert(count("rows_in") == 10 && count("rows_out") == 10 && count("embedded") == 8)
    assert(count("unknown_adapter") == 1 && count("null_text") == 1 && count("failed") == 0, summary.toString)
    val written = spark.read.json(dir.resolve("out").toString).collect()
      .map(r => r.getAs[Long]("id") -> r).toMap
    picked.zipWithIndex.foreach { case (row, i) =>
      val v = written(i.toLong).getAs[scala.collection.Seq[Double]]("embedding").map(_.toFloat).toArray
      val diff = VectorMath.maxAbsDiff(v, AdapterMix.singleAdapterVectors(row.id))
      assert(diff <= 1e-5, s"row $i (${row.adapter}): max|Δ| $diff")
    }
    assert(written(8L).isNullAt(written(8L).fieldIndex("embedding")))
  }
}

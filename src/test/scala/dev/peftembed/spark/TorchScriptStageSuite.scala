package dev.peftembed.spark

import dev.peftembed.embed.{EncoderOptions, SentenceEncoder}
import dev.peftembed.pooling.VirtualTokenPolicy
import dev.peftembed.testkit.{LocalSparkSession, ScratchSpace, TinyPromptBert}
import dev.peftembed.testkit.VectorMath.maxAbsDiff
import java.nio.file.Path
import org.apache.spark.sql.Row
import org.apache.spark.sql.types.{DataTypes, StructType}
import org.scalatest.funsuite.AnyFunSuite
import scala.jdk.CollectionConverters._
import scala.util.Using

/** The Spark stage on local[2] embeds the prompt-tuned TorchScript fixture as the native path embeds its weights. */
class TorchScriptStageSuite extends AnyFunSuite with LocalSparkSession with ScratchSpace {
  private val texts = TinyPromptBert.texts :+ null

  private def native(policy: VirtualTokenPolicy) = Using.resource(SentenceEncoder.load(TinyPromptBert.st,
    TinyPromptBert.adapter, EncoderOptions.defaults().withDevice("cpu", "float32").withVirtualTokens(policy))) {
    _.encode(texts.asJava).asScala.toSeq
  }

  private def embed(dir: Path, policy: VirtualTokenPolicy): Seq[Row] = {
    val schema = new StructType().add("id", DataTypes.IntegerType).add("text", DataTypes.StringType)
    val rows = texts.zipWithIndex.map { case (t, i) => Row(i, t) }
    val df = spark.createDataFrame(rows.asJava, schema).repartition(3)
    new PeftEmbedder().setModelPath(dir.toString).setVirtualTokens(policy.name.toLowerCase).setNumTokensCol("n")
      .transform(df).collect().toSeq.sortBy(_.getInt(0))
  }

  for ((label, dir) <- Seq(
    "declared" -> (() => TinyPromptBert.promptGraph),
    "undeclared" -> (() => TinyPromptBert.variant(TinyPromptBert.promptGraph, remove = Seq("adapter_config.json"))));
       policy <- VirtualTokenPolicy.values()) {
    test(s"PeftEmbedder embeds the TorchScript fixture, M $label, ${policy.name}, as the native path does") {
      val out = embed(dir(), policy)
      assert(out.map(_.getInt(0)) == texts.indices)
      out.zip(native(policy)).foreach { case (row, expected) =>
        if (expected == null) assert(row.isNullAt(row.fieldIndex("embedding")))
        else {
          val got = row.getAs[scala.collection.Seq[Float]]("embedding").toArray
          assert(maxAbsDiff(got, expected.vector) <= 1e-5 && row.getAs[Int]("n") == expected.numTokens,
            s"row ${row.getInt(0)} got ${got.take(4).toSeq} expected ${expected.vector.take(4).toSeq}")
        }
      }
    }
  }
}

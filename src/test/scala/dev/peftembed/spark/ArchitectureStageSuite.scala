package dev.peftembed.spark

import dev.peftembed.testkit.{LocalSparkSession, TinyEncoders}
import dev.peftembed.testkit.VectorMath._
import org.apache.spark.sql.Row
import org.apache.spark.sql.types.{DataTypes, StructType}
import org.scalatest.funsuite.AnyFunSuite
import scala.jdk.CollectionConverters._

/**
 * The stage on local[2] with XLM-RoBERTa and DistilBERT checkpoints: every row's vector is the reference forward's
 * (src/test/python/encoder_reference.py), base and with a prompt-tuning adapter under both policies.
 */
class ArchitectureStageSuite extends AnyFunSuite with LocalSparkSession {

  for (f <- TinyEncoders.all; (adapter, policy) <- Seq(false -> "include", true -> "include", true -> "exclude")) {
    val label = if (adapter) s"prompt tuning, virtual tokens $policy" else "base model"
    test(s"${f.name}, $label: every row equals the reference") {
      val expected = f.expected(if (adapter) policy else "base")
      val schema = new StructType().add("id", DataTypes.IntegerType).add("text", DataTypes.StringType)
      val rows = f.texts.zipWithIndex.map { case (t, i) => Row(i, t) }
      val docs = spark.createDataFrame(rows.asJava, schema).repartition(3)
      val stage = new PeftEmbedder().setModelPath(f.st.toString).setDevice("cpu").setVirtualTokens(policy)
      val out = (if (adapter) stage.setAdapterPath(f.adapter.toString) else stage).transform(docs).collect()
      assert(out.map(_.getInt(0)).sorted.toSeq == f.texts.indices)
      var agreement = noAgreementYet
      out.foreach { r =>
        val i = r.getInt(0)
        val v = r.getAs[scala.collection.Seq[Float]]("embedding").toArray
        agreement = agreement.add(cosine(v, expected(i)), maxAbsDiff(v, expected(i)))
      }
      info(s"stage, ${f.name} $label: $agreement")
      assert(agreement.worstCosine >= 0.99999 && agreement.worstAbsDiff <= 1e-5, agreement.toString)
    }
  }
}

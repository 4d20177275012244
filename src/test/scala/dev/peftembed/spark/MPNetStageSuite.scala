package dev.peftembed.spark

import dev.peftembed.testkit.{LocalSparkSession, TinyMPNet}
import dev.peftembed.testkit.VectorMath._
import org.apache.spark.sql.Row
import org.apache.spark.sql.types.{DataTypes, StructType}
import org.scalatest.funsuite.AnyFunSuite
import scala.jdk.CollectionConverters._

/** The stage on an MPNet on local[2]: each row's vector is the Python reference's for its text, as encode's is. */
class MPNetStageSuite extends AnyFunSuite with LocalSparkSession {

  for ((adapter, policy, kind) <- Seq((false, "include", "base"), (true, "include", "prompt_include"),
      (true, "exclude", "prompt_exclude"))) {
    test(s"MPNet${if (adapter) s" with a prompt-tuning adapter, virtual tokens $policy" else ""}: every row equals " +
      "the reference") {
      val texts = TinyMPNet.texts
      val expected = TinyMPNet.vectors(kind)
      val schema = new StructType().add("id", DataTypes.IntegerType).add("text", DataTypes.StringType)
      val rows = texts.zipWithIndex.map { case (t, i) => Row(i, t) }
      val docs = spark.createDataFrame(rows.asJava, schema).repartition(3)
      val stage = new PeftEmbedder().setModelPath(TinyMPNet.st.toString).setDevice("cpu").setVirtualTokens(policy)
      if (adapter) stage.setAdapterPath(TinyMPNet.adapter.toString)
      val out = stage.transform(docs).collect()
      assert(out.map(_.getInt(0)).sorted.toSeq == texts.indices, "every row once")
      var agreement = noAgreementYet
      out.foreach { r =>
        val i = r.getInt(0)
        val v = r.getAs[scala.collection.Seq[Float]]("embedding").toArray
        agreement = agreement.add(cosine(v, expected(i)), maxAbsDiff(v, expected(i)))
      }
      info(s"stage, $kind: $agreement")
      assert(agreement.worstCosine >= 0.99999 && agreement.worstAbsDiff <= 1e-5, agreement.toString)
    }
  }
}

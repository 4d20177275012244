package dev.peftembed.spark

import dev.peftembed.testkit.{LocalSparkSession, LoraFixtures, TestModels}
import dev.peftembed.testkit.VectorMath._
import org.apache.spark.sql.Row
import org.apache.spark.sql.types.{DataTypes, StructType}
import org.scalatest.funsuite.AnyFunSuite
import scala.jdk.CollectionConverters._

/** The stage with a LoRA adapter on local[2]: each row's vector is the Python reference's for its text. */
class LoraStageSuite extends AnyFunSuite with LocalSparkSession {

  test("a LoRA adapter in adapterPath: every row equals the reference of PEFT's rules (all-MiniLM-L6-v2)") {
    val model = TestModels.miniLm
    val inputs = LoraFixtures.inputs(model)
    val expected = LoraFixtures.reference(model).vectors("patterns-peft")
    val schema = new StructType().add("id", DataTypes.IntegerType).add("text", DataTypes.StringType)
    val rows = inputs.texts.zipWithIndex.map { case (t, i) => Row(i, t) }
    val docs = spark.createDataFrame(rows.asJava, schema).repartition(3)
    val out = new PeftEmbedder().setModelPath(model.dir.toString)
      .setAdapterPath(LoraFixtures.adapter(model, "patterns-peft").toString).setDevice("cpu")
      .transform(docs).collect()
    assert(out.length == inputs.texts.size)
    var agreement = noAgreementYet
    out.foreach { r =>
      val i = r.getInt(0)
      val v = r.getAs[scala.collection.Seq[Float]]("embedding").toArray
      agreement = agreement.add(cosine(v, expected(i)), maxAbsDiff(v, expected(i)))
    }
    info(s"stage, patterns-peft: $agreement")
    assert(agreement.worstCosine >= 0.99999 && agreement.worstAbsDiff <= 1e-5, agreement.toString)
  }
}

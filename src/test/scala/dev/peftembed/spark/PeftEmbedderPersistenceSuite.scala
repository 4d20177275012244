package dev.peftembed.spark

import dev.peftembed.onnx.DefaultModel
import dev.peftembed.testkit.{LocalSparkSession, ScratchSpace}
import java.nio.file.{Files, Path}
import org.apache.spark.ml.{Pipeline, PipelineModel, PipelineStage}
import org.apache.spark.ml.linalg.Vector
import org.apache.spark.sql.Row
import org.apache.spark.sql.types.{DataTypes, StructType}
import org.scalatest.funsuite.AnyFunSuite
import scala.jdk.CollectionConverters._

class PeftEmbedderPersistenceSuite extends AnyFunSuite with LocalSparkSession with ScratchSpace {

  private lazy val tmp: Path = scratch.dir("peft-embedder-persistence")

  private def configured: PeftEmbedder = new PeftEmbedder()
    .setInputCol("body").setOutputCol("vec").setModelPath(DefaultModel.resolve().toString)
    .setNumTokensCol("n").setTruncatedCol("cut").setMaxSeqLength(32).setBatchSize(16).setMaxBatchTokens(1024)
    .setOutputType("vector").setPrompt("").setNormalize(true).setTruncateDim(128).setDevice("cpu")

  private def assertSameParams(a: PeftEmbedder, b: PeftEmbedder): Unit = {
    assert(a.uid == b.uid)
    assert(a.params.map(_.name).toSeq == b.params.map(_.name).toSeq)
    a.params.foreach { p =>
      assert(a.isSet(p) == b.isSet(b.getParam(p.name)), p.name)
      // Array params (adapters) compare by content: a loaded array is a new object.
      def value(s: PeftEmbedder) = s.extractParamMap().get(s.getParam(p.name)).map {
        case array: Array[_] => array.toSeq
        case other => other
      }
      assert(value(a) == value(b), p.name)
    }
  }

  test("the stage saves and loads alone, keeping set, unset and empty params apart") {
    val stage = configured
    val path = tmp.resolve("stage").toString
    stage.write.overwrite().save(path)
    val loaded = PeftEmbedder.load(path)
    assertSameParams(stage, loaded)
    assert(loaded.getPrompt == "", "an explicitly empty prompt stays set: no prompt at all")
    assert(PeftEmbedder.load(path).isSet(loaded.truncateDim))
    new PeftEmbedder().write.overwrite().save(tmp.resolve("plain").toString)
    assert(PeftEmbedder.load(tmp.resolve("plain").toString).getPrompt == null, "an unset prompt stays unset")
  }

  test("named adapters and the adapter column save and load with the stage") {
    val stage = configured.setAdapters("support=/data/adapters/support", "legal=hdfs:///adapters/legal")
      .setAdapterCol("which")
    val path = tmp.resolve("named").toString
    stage.write.overwrite().save(path)
    val loaded = PeftEmbedder.load(path)
    assertSameParams(stage, loaded)
    assert(loaded.getAdapters.toSeq == Seq("support=/data/adapters/support", "legal=hdfs:///adapters/legal"))
    assert(loaded.getAdapterCol == "which")
    val plain = tmp.resolve("plain-named").toString
    new PeftEmbedder().write.overwrite().save(plain)
    assert(PeftEmbedder.load(plain).getAdapters.isEmpty && PeftEmbedder.load(plain).getAdapterCol == "adapter")
  }

  test("the stage round-trips inside a saved PipelineModel and embeds the same after loading") {
    val schema = new StructType().add("id", DataTypes.IntegerType).add("body", DataTypes.StringType)
    val df = spark.createDataFrame(
      List(Row(1, "A saved pipeline."), Row(2, null), Row(3, "Loaded again, it embeds the same.")).asJava, schema)
    val model = new Pipeline().setStages(Array[PipelineStage](configured)).fit(df)
    val path = tmp.resolve("pipeline").toString
    model.write.overwrite().save(path)
    val loaded = PipelineModel.load(path)
    assert(loaded.stages.length == 1)
    assertSameParams(model.stages(0).asInstanceOf[PeftEmbedder], loaded.stages(0).asInstanceOf[PeftEmbedder])

    val before = model.transform(df).collect()
    val after = loaded.transform(df).collect()
    assert(after.map(_.getInt(0)).toSeq == Seq(1, 2, 3))
    before.zip(after).foreach { case (b, a) =>
      assert(a.getAs[Vector]("vec") == b.getAs[Vector]("vec"))
      if (a.getString(1) != null) {
        val v = a.getAs[Vector]("vec")
        assert(v.size == 128)
        assert(math.abs(math.sqrt(v.toArray.map(x => x * x).sum) - 1.0) < 1e-5, "normalized after truncation")
      }
    }
  }
}

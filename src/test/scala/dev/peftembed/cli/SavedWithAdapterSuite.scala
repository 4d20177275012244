package dev.peftembed.cli

import com.fasterxml.jackson.databind.ObjectMapper
import com.fasterxml.jackson.databind.node.ObjectNode
import dev.peftembed.spark.PeftEmbedder
import dev.peftembed.testkit.{Console, LocalSparkSession, LoraFixtures, ScratchSpace, TestModels}
import dev.peftembed.testkit.VectorMath._
import java.nio.file.{Files, Path}
import org.apache.spark.sql.Row
import org.apache.spark.sql.types.{DataTypes, StructType}
import org.scalatest.funsuite.AnyFunSuite
import scala.jdk.CollectionConverters._

/**
 * A sentence-transformers directory saved with a LoRA adapter (sentence-transformers ≥ 3.3 writes adapter_config.json
 * and adapter_model.safetensors where model.safetensors would be): `--model DIR` finds the base model, and each
 * vector equals Python's reference for that adapter.
 */
class SavedWithAdapterSuite extends AnyFunSuite with LocalSparkSession with ScratchSpace {
  private val json = new ObjectMapper()
  private lazy val model = TestModels.miniLm
  private val Case = "all-linear-hf"

  /** The base model's directory less its weights, plus the adapter, recording `base` as its base model. */
  private def savedWithAdapter(base: String): Path = {
    val dir = scratch.dir("saved-with-adapter")
    Files.walk(model.dir).iterator().asScala.filter(Files.isRegularFile(_))
      .filterNot(_.getFileName.toString == "model.safetensors").foreach { f =>
        val target = dir.resolve(model.dir.relativize(f).toString)
        Files.createDirectories(target.getParent)
        Files.copy(f, target)
      }
    val adapter = LoraFixtures.adapter(model, Case)
    Files.copy(adapter.resolve("adapter_model.safetensors"), dir.resolve("adapter_model.safetensors"))
    val config = json.readTree(adapter.resolve("adapter_config.json").toFile).asInstanceOf[ObjectNode]
    config.put("base_model_name_or_path", base)
    json.writeValue(dir.resolve("adapter_config.json").toFile, config)
    dir
  }

  private def encode(args: String*): Seq[Array[Float]] = {
    val texts = LoraFixtures.inputs(model).texts
    val in = Files.write(scratch.file("in", ".jsonl"), texts.zipWithIndex.map { case (t, i) =>
      json.writeValueAsString(Map("id" -> i, "text" -> t).asJava)
    }.asJava)
    val out = scratch.file("out", ".jsonl")
    val (code, _, err) = Console.run(Seq("encode", "--input", in.toString, "--output", out.toString, "--device",
      "cpu") ++ args: _*)
    assert(code == 0, err)
    Files.readAllLines(out).asScala.map(l => json.readTree(l).get("embedding").elements().asScala
      .map(_.floatValue).toArray).toSeq
  }

  private def assertReference(label: String, vectors: Seq[Array[Float]]): Unit = {
    val expected = LoraFixtures.reference(model).vectors(Case)
    assert(vectors.size == expected.size)
    var agreement = noAgreementYet
    vectors.zip(expected).foreach { case (v, e) => agreement = agreement.add(cosine(v, e), maxAbsDiff(v, e)) }
    info(s"$label: $agreement")
    assert(agreement.worstCosine >= 0.99999 && agreement.worstAbsDiff <= 1e-5, agreement.toString)
  }

  test("--model on a directory saved with an adapter loads the local base model it names") {
    assertReference("encode, base from base_model_name_or_path",
      encode("--model", savedWithAdapter(model.dir.toString).toString))
  }

  test("a base model that is not a local directory: one line naming the file and --base-model; with it, it runs") {
    val dir = savedWithAdapter("sentence-transformers/all-MiniLM-L6-v2")
    val (code, _, err) = Console.run("encode", "--model", dir.toString, "--input", "/dev/null")
    assert(code != 0)
    assert(err.linesIterator.filter(_.startsWith("peft-embed:")).toSeq == Seq(s"peft-embed: error: " +
      s"${dir.resolve("adapter_config.json")}: this model directory holds an adapter, not model weights, and its " +
      "base_model_name_or_path \"sentence-transformers/all-MiniLM-L6-v2\" is not a local directory: give the base " +
      "model's directory with --base-model DIR (the stage's baseModelPath)"))
    assertReference("encode --base-model", encode("--model", dir.toString, "--base-model", model.dir.toString))
  }

  test("the stage: modelPath on a directory saved with an adapter, baseModelPath for its base") {
    val dir = savedWithAdapter("sentence-transformers/all-MiniLM-L6-v2")
    val texts = LoraFixtures.inputs(model).texts
    val schema = new StructType().add("id", DataTypes.IntegerType).add("text", DataTypes.StringType)
    val docs = spark.createDataFrame(texts.zipWithIndex.map { case (t, i) => Row(i, t) }.asJava, schema)
    val out = new PeftEmbedder().setModelPath(dir.toString).setBaseModelPath(model.dir.toString).setDevice("cpu")
      .transform(docs).collect().sortBy(_.getInt(0))
    assertReference("stage, baseModelPath", out.map(_.getAs[scala.collection.Seq[Float]]("embedding").toArray).toSeq)
  }
}

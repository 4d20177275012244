package dev.peftembed.docs

import dev.peftembed.peft.TextPromptInit
import dev.peftembed.onnx.DefaultModel
import dev.peftembed.spark.PeftEmbedder
import dev.peftembed.testkit.{LocalSparkSession, ScratchSpace}
import java.nio.file.{Files, Path}
import org.apache.spark.ml.{Pipeline, PipelineModel, PipelineStage}
import org.apache.spark.ml.clustering.KMeans
import org.apache.spark.ml.linalg.Vector
import org.scalatest.funsuite.AnyFunSuite
import scala.jdk.CollectionConverters._

/** README's Spark examples work as written: the Scala one runs here, and every setter they call exists. */
class ReadmeExamplesSuite extends AnyFunSuite with LocalSparkSession with ScratchSpace {
  private val readme = Files.readString(Path.of("README.md"))

  /** The fenced blocks of one language. */
  private def blocks(language: String): Seq[String] =
    s"(?s)```$language\n(.*?)```".r.findAllMatchIn(readme).map(_.group(1)).toSeq

  test("the setters README's Java and Scala examples call are PeftEmbedder's") {
    // The examples also call Pipeline.setStages, and the caching example configures a KMeans.
    val setters = Seq(classOf[PeftEmbedder], classOf[Pipeline], classOf[KMeans]).flatMap(_.getMethods).map(_.getName)
      .toSet
    val used = (blocks("java") ++ blocks("scala")).filter(_.contains("PeftEmbedder"))
      .flatMap(b => "\\.(set[A-Z]\\w*)\\(".r.findAllMatchIn(b).map(_.group(1))).toSet
    assert(used.contains("setAdapterPath") && used.contains("setVirtualTokens"))
    assert(used -- setters == Set.empty, "README calls setters the stage does not have")
  }

  test("README's Scala DataFrame and Pipeline example runs, with its paths pointed at real files") {
    val scala = blocks("scala").find(_.contains("new Pipeline()")).getOrElse(fail("README has no Scala pipeline"))
    val tmp = scratch.dir("readme-example")
    val corpus = Files.write(tmp.resolve("corpus.jsonl"), Seq(
      """{"id": 1, "text": "How do I reverse a list in Python?"}""",
      """{"id": 2, "text": "Salt the pasta water generously."}""").asJava)
    val model = DefaultModel.resolve()
    val adapter = tmp.resolve("prompt")
    TextPromptInit.writeAdapter(model, "Represent this sentence for retrieval:", 8, adapter)
    val paths = Map("corpus.jsonl" -> corpus.toString, "/models/st" -> model.toString,
      "/models/prompt" -> adapter.toString, "/models/embed-pipeline" -> tmp.resolve("pipeline").toString)
    paths.keys.foreach(p => assert(scala.contains("\"" + p + "\""), s"README's example no longer uses $p"))
    def at(p: String) = paths(p)

    // README's example, statement for statement.
    val docs = spark.read.json(at("corpus.jsonl"))
    val embedded = new PeftEmbedder().setInputCol("text").setOutputType("vector").setNumTokensCol("num_tokens")
      .transform(docs)
    val embedder = new PeftEmbedder().setModelPath(at("/models/st")).setAdapterPath(at("/models/prompt"))
      .setVirtualTokens("exclude")
    new Pipeline().setStages(Array[PipelineStage](embedder)).fit(docs).write.overwrite().save(at("/models/embed-pipeline"))
    val again = PipelineModel.load(at("/models/embed-pipeline")).transform(docs)

    val vectors = embedded.select("embedding", "num_tokens").collect()
    assert(vectors.length == 2 && vectors.forall(_.getAs[Vector](0).size == 384))
    assert(vectors.head.getInt(1) == 11 && vectors(1).getInt(1) > 2)
    val prompted = again.select("embedding").collect().map(_.getSeq[Float](0))
    assert(prompted.length == 2 && prompted.forall(_.size == 384))
    val plain = vectors.head.getAs[Vector](0).toArray
    assert(plain.zip(prompted.head).map { case (a, b) => a * b }.sum < 0.999, "the adapter changed nothing")
  }
}

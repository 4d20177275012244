package dev.peftembed.testkit

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer
import com.fasterxml.jackson.databind.{JsonNode, ObjectMapper}
import com.fasterxml.jackson.databind.node.JsonNodeFactory
import dev.peftembed.model.ModelDirectory
import dev.peftembed.testkit.TestModels.RealModel
import java.nio.file.{Files, Path, Paths}
import scala.jdk.CollectionConverters._
import scala.util.Using

/**
 * The LoRA fixtures of `src/test/python/make_lora_references.py`, one directory per real model:
 * `inputs.json` (texts and the ids the real tokenizer gives them, written by [[LoraFixtures.main]]), one PEFT adapter
 * directory per case, and `reference.json` (Python's vectors for the base model and for each case, and the modules
 * and scales PEFT's own matching code chose). Committed; see the fixture's README.md.
 */
object LoraFixtures {
  private lazy val root: Path = Paths.get(getClass.getResource("/fixtures/lora").toURI)
  private val json = new ObjectMapper()

  /** The models, by the directory name their fixtures live under. */
  def models: Seq[() => RealModel] = Seq(() => TestModels.miniLm, () => TestModels.bgeSmall)

  /** The LoRA cases the generator writes for every model. */
  val cases: Seq[String] =
    Seq("qv-peft", "all-linear-hf", "regex-peft", "rslora-hf", "patterns-peft", "layers-hf", "bias-all-peft")

  def dir(model: RealModel): Path = root.resolve(model.name)

  def adapter(model: RealModel, name: String): Path = dir(model).resolve(name)

  /** Texts and their token ids, as committed. */
  final case class Inputs(maxSeqLength: Int, texts: Seq[String], ids: Seq[Array[Long]])

  def inputs(model: RealModel): Inputs = {
    val n = json.readTree(dir(model).resolve("inputs.json").toFile)
    Inputs(n.get("max_seq_length").asInt, n.get("texts").asScala.map(_.asText).toSeq,
      n.get("ids").asScala.map(_.asScala.map(_.asLong).toArray).toSeq)
  }

  /** Python's reference: base vectors, and per case the vectors and PEFT's module → scale choice. */
  final case class Reference(base: Seq[Array[Double]], vectors: Map[String, Seq[Array[Double]]],
      scales: Map[String, Map[String, Double]])

  def reference(model: RealModel): Reference = {
    val n = json.readTree(dir(model).resolve("reference.json").toFile)
    def vectors(v: JsonNode): Seq[Array[Double]] = v.asScala.map(_.asScala.map(_.asDouble).toArray).toSeq
    val cs = n.get("cases")
    Reference(vectors(n.get("base")),
      cases.map(c => c -> vectors(cs.get(c).get("vectors"))).toMap,
      cases.map(c => c -> cs.get(c).get("scales").fields().asScala.map(e => e.getKey -> e.getValue.asDouble).toMap)
        .toMap)
  }

  /** Texts nobody tuned the code for: short, long and truncated, empty, non-Latin, emoji, code, control characters. */
  def texts(model: RealModel): Seq[String] =
    Seq(0, 1, 3, 4, 7, 12, 14, 16, 18, 19, 22, 26, 31, 35, 36, 42).map(Texts.handPicked) ++
      Texts.generated(model.tokenizer, 6, seed = 13)

  /** The ids sentence-transformers' tokenizer gives each text: special tokens, truncation at max_seq_length. */
  def tokenize(model: RealModel, texts: Seq[String], maxSeqLength: Int): Seq[Array[Long]] =
    Using.resource(HuggingFaceTokenizer.builder().optTokenizerPath(model.tokenizer).optAddSpecialTokens(true)
      .optPadding(false).optTruncation(true).optMaxLength(maxSeqLength).build()) { tokenizer =>
      texts.map(t => tokenizer.encode(t).getIds)
    }

  /**
   * Writes `inputs.json` for every model under the directory given (the fixture root in the source tree), and prints
   * each model directory for the Python generator to read the weights from.
   */
  def main(args: Array[String]): Unit = {
    val out = Paths.get(args(0))
    for (model <- models.map(_())) {
      val maxSeq = ModelDirectory.read(model.dir).maxSeqLength()
      val ts = texts(model)
      val node = JsonNodeFactory.instance.objectNode()
      node.put("model", model.name)
      node.put("max_seq_length", maxSeq)
      val textArray = node.putArray("texts")
      ts.foreach(textArray.add)
      val idArray = node.putArray("ids")
      tokenize(model, ts, maxSeq).foreach { ids =>
        val row = idArray.addArray()
        ids.foreach(id => row.add(id))
      }
      Files.createDirectories(out.resolve(model.name))
      json.writeValue(out.resolve(model.name).resolve("inputs.json").toFile, node)
      println(s"${model.name}=${model.dir}")
    }
  }
}

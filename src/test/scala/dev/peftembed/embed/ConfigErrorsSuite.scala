package dev.peftembed.embed

import dev.peftembed.model.{ModelFormatException, SafetensorsWriter}
import dev.peftembed.testkit.{ModelVariants, ScratchSpace, TestModels, TinyEncoders}
import java.nio.file.{Files, Path}
import java.util.TreeMap
import org.scalatest.funsuite.AnyFunSuite
import scala.util.Using

/**
 * Well-formed models, adapters and options that the encoder does not support, and the one defect only loading finds,
 * each fail with one line naming the file and what was expected. Missing, corrupt and inconsistent directories,
 * which the driver refuses before any job, are [[dev.peftembed.job.BadModelSuite]]'s.
 */
class ConfigErrorsSuite extends AnyFunSuite with ScratchSpace {
  private val model = TestModels.miniLm
  private lazy val adapter: Path = TestModels.promptAdapter(model, 8, seed = 8)._1

  private def planError(modelDir: Path, adapterDir: Path = null): String =
    intercept[ModelFormatException](EncoderPlan.resolve(modelDir, adapterDir, EncoderOptions.defaults())).getMessage

  private def loadError(modelDir: Path, adapterDir: Path = null): String =
    intercept[ModelFormatException] {
      Using.resource(SentenceEncoder.load(modelDir, adapterDir, EncoderOptions.defaults().withDevice("cpu",
        "float32")))(_ => ())
    }.getMessage

  private def oneLine(msg: String, file: String, expected: String*): Unit = {
    assert(!msg.contains("\n"), msg)
    assert(msg.contains(file), s"'$msg' does not name $file")
    expected.foreach(e => assert(msg.contains(e), s"'$msg' does not say '$e'"))
  }

  private def adapterVariant(): Path = ModelVariants.copyOf(adapter)

  private def config(dir: Path, edit: String => String): Unit = {
    val f = dir.resolve("config.json")
    Files.writeString(f, edit(Files.readString(f)))
  }

  test("an unknown model type names config.json and lists every supported type") {
    val dir = ModelVariants.copyOf(model.dir)
    config(dir, _.replaceAll("\"model_type\"\\s*:\\s*\"bert\"", "\"model_type\": \"gpt2\""))
    oneLine(planError(dir), "config.json", "model_type \"gpt2\" is not supported",
      "\"bert\", \"roberta\", \"xlm-roberta\", \"distilbert\"")
  }

  test("a BERT checkpoint whose config.json claims another architecture fails on the weights it lacks") {
    val dir = ModelVariants.copyOf(model.dir)
    config(dir, _.replaceAll("\"model_type\"\\s*:\\s*\"bert\"", "\"model_type\": \"distilbert\""))
    oneLine(planError(dir), "config.json", "\"dim\"")
  }

  test("a DistilBERT config.json is told about in its own field names") {
    val dir = ModelVariants.copyOf(TinyEncoders.distilBert.st)
    config(dir, _.replaceAll("\"n_heads\"\\s*:\\s*4", "\"n_heads\": 5"))
    oneLine(planError(dir), "config.json", "dim 32 is not a multiple of n_heads 5")
  }

  test("prefix tuning on DistilBERT, whose attention takes no past keys and values") {
    val a = ModelVariants.copyOf(TinyEncoders.distilBert.adapter)
    val f = a.resolve("adapter_config.json")
    Files.writeString(f, Files.readString(f).replace("PROMPT_TUNING", "PREFIX_TUNING"))
    oneLine(planError(TinyEncoders.distilBert.st, a), "adapter_config.json", "PREFIX_TUNING",
      "model_type distilbert")
  }

  test("an unsupported module in modules.json") {
    val dir = ModelVariants.copyOf(model.dir)
    ModelVariants.write(dir.resolve("modules.json"),
      """[{"idx":0,"name":"0","path":"","type":"sentence_transformers.models.StaticEmbedding"}]""")
    oneLine(planError(dir), "modules.json", "StaticEmbedding", "is not supported")
  }

  for ((peftType, says) <- Seq("IA3" -> "is not supported yet", "SOMETHING_NEW" -> "is unknown")) {
    test(s"peft_type $peftType") {
      val a = adapterVariant()
      val f = a.resolve("adapter_config.json")
      Files.writeString(f, Files.readString(f).replace("PROMPT_TUNING", peftType))
      oneLine(planError(model.dir, a), "adapter_config.json", s"peft_type $peftType $says",
        "supported: PROMPT_TUNING, P_TUNING, PREFIX_TUNING")
    }
  }

  test("a prompt-tuning table declared as a prefix: the table has the wrong shape for one") {
    val a = adapterVariant()
    val f = a.resolve("adapter_config.json")
    Files.writeString(f, Files.readString(f).replace("PROMPT_TUNING", "PREFIX_TUNING"))
    oneLine(planError(model.dir, a), "adapter_model.safetensors", "tensor \"prompt_embeddings\" has shape [8, 384]",
      "adapter_config.json implies [8, 4608]")
  }

  test("a prefix cut for another model's layers") {
    val a = adapterVariant()
    val f = a.resolve("adapter_config.json")
    Files.writeString(f, Files.readString(f).replace("PROMPT_TUNING", "PREFIX_TUNING")
      .replaceAll("\"num_layers\"\\s*:\\s*6", "\"num_layers\" : 12"))
    oneLine(planError(model.dir, a), "adapter_config.json",
      "num_layers 12 disagrees with the model's num_hidden_layers 6")
  }

  test("an adapter whose weights lack prompt_embeddings") {
    val a = adapterVariant()
    val tensors = new TreeMap[String, SafetensorsWriter.Entry]()
    tensors.put("base_model.prompt_encoder.default.embedding.weight",
      new SafetensorsWriter.Entry(Array(8L, 384L), new Array[Float](8 * 384)))
    SafetensorsWriter.write(a.resolve("adapter_model.safetensors"), tensors)
    oneLine(loadError(model.dir, a), "adapter_model.safetensors", "missing tensor \"prompt_embeddings\"")
  }

  test("options the model cannot honour fail before loading") {
    val e = intercept[IllegalArgumentException](
      EncoderPlan.resolve(model.dir, null, EncoderOptions.defaults().withOutput(Normalization.MODEL, 1000)))
    assert(e.getMessage.contains("truncate dim 1000 exceeds the model's 384 dimensions"))
    val gpu = intercept[IllegalArgumentException](
      SentenceEncoder.load(model.dir, null, EncoderOptions.defaults().withDevice("gpu", "float32")))
    assert(gpu.getMessage.contains("libtorch sees no GPU"))
    val half = intercept[IllegalArgumentException](
      SentenceEncoder.load(model.dir, null, EncoderOptions.defaults().withDevice("cpu", "float16")))
    assert(half.getMessage.contains("float16 needs a GPU"))
  }
}

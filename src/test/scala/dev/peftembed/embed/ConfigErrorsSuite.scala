package dev.peftembed.embed

import dev.peftembed.model.{ModelFormatException, SafetensorsWriter}
import dev.peftembed.testkit.{ModelVariants, ScratchSpace, TestModels}
import java.nio.file.{Files, Path}
import java.util.TreeMap
import org.scalatest.funsuite.AnyFunSuite
import scala.util.Using

/** Each bad model or adapter fails with one line naming the file and what was expected. */
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

  test("a missing model directory") {
    oneLine(planError(Path.of("/no/such/model")), "/no/such/model", "model directory not found")
  }

  test("config.json missing a field") {
    val dir = ModelVariants.copyOf(model.dir)
    config(dir, _.replaceAll("\"hidden_size\"\\s*:\\s*384\\s*,", ""))
    oneLine(planError(dir), "config.json", "\"hidden_size\"", "expected an integer")
  }

  test("a model type outside the BERT family") {
    val dir = ModelVariants.copyOf(model.dir)
    config(dir, _.replaceAll("\"model_type\"\\s*:\\s*\"bert\"", "\"model_type\": \"roberta\""))
    oneLine(planError(dir), "config.json", "model_type \"roberta\" is not supported")
  }

  test("a tensor shape that disagrees with config.json") {
    val dir = ModelVariants.copyOf(model.dir)
    config(dir, _.replaceAll("\"intermediate_size\"\\s*:\\s*1536", "\"intermediate_size\": 1024"))
    oneLine(loadError(dir), "model.safetensors", "encoder.layer.0.intermediate.dense.weight", "[1536, 384]",
      "[1024, 384]")
  }

  test("only pytorch_model.bin: refuse to unpickle and say how to convert") {
    val dir = ModelVariants.copyOf(model.dir)
    Files.delete(dir.resolve("model.safetensors"))
    Files.write(dir.resolve("pytorch_model.bin"), Array[Byte](0x80.toByte, 2))
    oneLine(planError(dir), dir.toString, "pytorch_model.bin", "never loaded", "safe_serialization=True")
  }

  test("a missing tokenizer.json") {
    val dir = ModelVariants.copyOf(model.dir)
    Files.delete(dir.resolve("tokenizer.json"))
    oneLine(planError(dir), "tokenizer.json", "file not found")
  }

  test("an unsupported module in modules.json") {
    val dir = ModelVariants.copyOf(model.dir)
    ModelVariants.write(dir.resolve("modules.json"),
      """[{"idx":0,"name":"0","path":"","type":"sentence_transformers.models.StaticEmbedding"}]""")
    oneLine(planError(dir), "modules.json", "StaticEmbedding", "is not supported")
  }

  test("an adapter whose token_dim disagrees with the model") {
    val a = adapterVariant()
    val f = a.resolve("adapter_config.json")
    Files.writeString(f, Files.readString(f).replaceAll("\"token_dim\"\\s*:\\s*384", "\"token_dim\" : 768"))
    oneLine(planError(model.dir, a), "adapter_config.json", "token_dim 768 disagrees with the model's hidden_size 384")
  }

  for ((peftType, says) <- Seq("LORA" -> "is not supported yet", "SOMETHING_NEW" -> "is unknown")) {
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

  test("an adapter without adapter_config.json") {
    val a = adapterVariant()
    Files.delete(a.resolve("adapter_config.json"))
    oneLine(planError(model.dir, a), "adapter_config.json", "file not found")
  }

  test("an adapter with only adapter_model.bin") {
    val a = adapterVariant()
    Files.delete(a.resolve("adapter_model.safetensors"))
    Files.write(a.resolve("adapter_model.bin"), Array[Byte](0x80.toByte, 2))
    oneLine(planError(model.dir, a), a.toString, "adapter_model.bin", "never loaded")
  }

  test("an adapter whose weights lack prompt_embeddings") {
    val a = adapterVariant()
    val tensors = new TreeMap[String, SafetensorsWriter.Entry]()
    tensors.put("base_model.prompt_encoder.default.embedding.weight",
      new SafetensorsWriter.Entry(Array(8L, 384L), new Array[Float](8 * 384)))
    SafetensorsWriter.write(a.resolve("adapter_model.safetensors"), tensors)
    oneLine(loadError(model.dir, a), "adapter_model.safetensors", "missing tensor \"prompt_embeddings\"")
  }

  test("an adapter whose table disagrees with num_virtual_tokens") {
    val a = adapterVariant()
    val f = a.resolve("adapter_config.json")
    Files.writeString(f, Files.readString(f).replaceAll("\"num_virtual_tokens\"\\s*:\\s*8", "\"num_virtual_tokens\" : 9"))
    oneLine(loadError(model.dir, a), "adapter_model.safetensors", "[8, 384]", "[9, 384]")
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

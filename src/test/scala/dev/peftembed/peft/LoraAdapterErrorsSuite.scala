package dev.peftembed.peft

import com.fasterxml.jackson.databind.ObjectMapper
import com.fasterxml.jackson.databind.node.ObjectNode
import dev.peftembed.embed.{EncoderOptions, EncoderPlan}
import dev.peftembed.model.{ModelFormatException, SafetensorsFile, SafetensorsWriter}
import dev.peftembed.testkit.{BadFiles, LoraFixtures, ModelVariants, ScratchSpace, TestModels}
import java.nio.file.{Files, Path}
import java.util.{TreeMap => JTreeMap}
import org.scalatest.funsuite.AnyFunSuite
import scala.jdk.CollectionConverters._

/**
 * A LoRA adapter that cannot be applied as PEFT would apply it fails on the driver, from its config and the header of
 * its weights, with one line naming the file and the key or field at fault.
 */
class LoraAdapterErrorsSuite extends AnyFunSuite with ScratchSpace {
  private lazy val model = TestModels.miniLm
  private lazy val source = LoraFixtures.adapter(model, "qv-peft")
  private val json = new ObjectMapper()
  private val Query0 = "base_model.model.encoder.layer.0.attention.self.query"

  /** A scratch copy of the qv adapter with its config edited. */
  private def withConfig(edit: ObjectNode => Unit): Path = {
    val dir = ModelVariants.copyOf(source)
    val file = dir.resolve("adapter_config.json")
    val node = json.readTree(file.toFile).asInstanceOf[ObjectNode]
    edit(node)
    json.writeValue(file.toFile, node)
    dir
  }

  /** A scratch copy of the qv adapter with its tensors rewritten. */
  private def withTensors(edit: JTreeMap[String, SafetensorsWriter.Entry] => Unit): Path = {
    val dir = ModelVariants.copyOf(source)
    val file = dir.resolve("adapter_model.safetensors")
    val stored = SafetensorsFile.open(file)
    val tensors = new JTreeMap[String, SafetensorsWriter.Entry]()
    stored.names().asScala.foreach { n =>
      val t = stored.read(n)
      tensors.put(n, new SafetensorsWriter.Entry(t.shape, t.data))
    }
    edit(tensors)
    Files.delete(file)
    SafetensorsWriter.write(file, tensors)
    dir
  }

  /** The one-line error validating `dir` gives; it must name `file` (relative to dir) and every one of `parts`. */
  private def failure(dir: Path, file: String, parts: String*): String = {
    val e = intercept[ModelFormatException](Adapters.validate(dir, model.config, model.dir))
    val message = e.getMessage
    assert(!message.contains("\n"), message)
    assert(message.startsWith(dir.resolve(file).toString), message)
    parts.foreach(p => assert(message.contains(p), s"'$p' not in: $message"))
    message
  }

  test("the untouched fixture is valid: the copies below fail for their edit alone") {
    val planned = Adapters.validate(ModelVariants.copyOf(source), model.config, model.dir)
    assert(planned.peftType == "LORA" && planned.numVirtualTokens == 0)
  }

  test("target_modules that match no module of the model") {
    failure(withConfig(_.putArray("target_modules").add("q_proj").add("v_proj")), "adapter_config.json",
      "[q_proj, v_proj]", "matches no module")
    failure(withConfig { c =>
      c.putArray("layers_to_transform").add(40)
    }, "adapter_config.json", "matches no module", "layers_to_transform [40]")
  }

  test("target_modules that select a module PEFT cannot adapt, or an embedding") {
    failure(withConfig(_.put("target_modules", "encoder\\.layer\\.0\\.attention\\.self")), "adapter_config.json",
      "encoder.layer.0.attention.self", "not a linear layer")
    failure(withConfig(_.putArray("target_modules").add("word_embeddings")), "adapter_config.json",
      "embeddings.word_embeddings", "embeddings is not supported")
  }

  test("a shape that disagrees with the model or with the rank the config gives the module") {
    failure(withTensors { t =>
      t.put(Query0 + ".lora_A.weight", new SafetensorsWriter.Entry(Array(8L, 383L), new Array[Float](8 * 383)))
    }, "adapter_model.safetensors", Query0 + ".lora_A.weight", "[8, 383]", "[8, 384]")
    failure(withConfig(_.putObject("rank_pattern").put("layer.0.attention.self.query", 4)),
      "adapter_model.safetensors", Query0 + ".lora_A.weight", "[8, 384]", "[4, 384]")
  }

  test("a key with no matching module, or for a module the config does not adapt") {
    failure(withTensors { t =>
      t.put("base_model.model.encoder.layer.0.attention.self.qkv.lora_A.weight",
        new SafetensorsWriter.Entry(Array(8L, 384L), new Array[Float](8 * 384)))
    }, "adapter_model.safetensors", "attention.self.qkv.lora_A.weight", "names no linear module")
    failure(withTensors { t =>
      t.put("base_model.model.encoder.layer.0.attention.self.key.lora_A.weight",
        new SafetensorsWriter.Entry(Array(8L, 384L), new Array[Float](8 * 384)))
    }, "adapter_model.safetensors", "self.key.lora_A.weight", "does not adapt")
    failure(withTensors { t =>
      t.put("base_model.model.pooler.dense.weight", new SafetensorsWriter.Entry(Array(2L), new Array[Float](2)))
    }, "adapter_model.safetensors", "pooler.dense.weight", "is not a LoRA weight or a bias")
  }

  test("a key that still carries an adapter name, which PEFT's saver never writes and its loader would drop") {
    failure(withTensors { t =>
      t.put(Query0 + ".lora_A.default.weight", t.remove(Query0 + ".lora_A.weight"))
    }, "adapter_model.safetensors", "lora_A.default.weight", "carries an adapter name")
  }

  test("an adapted module without its weights") {
    failure(withTensors(_.remove(Query0 + ".lora_B.weight")), "adapter_model.safetensors",
      "encoder.layer.0.attention.self.query.lora_B.weight", "adapts encoder.layer.0.attention.self.query")
    failure(withConfig(_.put("lora_bias", true)), "adapter_model.safetensors", "lora_B.bias", "lora_bias")
  }

  test("DoRA and the other LoRA variants are refused in one line, also through the encoder plan") {
    val dora = withConfig(_.put("use_dora", true))
    failure(dora, "adapter_config.json", "DoRA (use_dora) is not supported", "merge_and_unload")
    val e = intercept[ModelFormatException](EncoderPlan.resolve(model.dir, dora, EncoderOptions.defaults()))
    assert(e.getMessage.contains("DoRA (use_dora) is not supported"))
    failure(withConfig(_.putArray("modules_to_save").add("pooler")), "adapter_config.json", "modules_to_save")
    failure(withConfig(_.putArray("alora_invocation_tokens").add(3)), "adapter_config.json", "activated LoRA")
  }

  test("config rules of PEFT's LoraConfig: layer selection needs a list of targets, r positive, bias known") {
    failure(withConfig { c =>
      c.put("target_modules", ".*query")
      c.put("layers_to_transform", 1)
    }, "adapter_config.json", "cannot be used when target_modules is a string")
    failure(withConfig(_.put("layers_pattern", "layer")), "adapter_config.json", "needs layers_to_transform")
    failure(withConfig(_.put("r", 0)), "adapter_config.json", "r must be a positive integer")
    failure(withConfig(_.put("bias", "some")), "adapter_config.json", "bias must be")
    failure(withConfig(_.putObject("rank_pattern").put("query", "eight")), "adapter_config.json", "rank_pattern")
    failure(withConfig(_.put("target_modules", "query(")), "adapter_config.json", "is not a regular expression")
  }

  test("adapter_model.bin is refused without being unpickled, also through the encoder plan") {
    val dir = ModelVariants.copyOf(source)
    Files.delete(dir.resolve("adapter_model.safetensors"))
    Files.write(dir.resolve("adapter_model.bin"), BadFiles.pickle)
    val message = failure(dir, "", "adapter_model.bin", "pickled weights are never loaded")
    assert(message.contains("safe_serialization=True"))
    val e = intercept[ModelFormatException](EncoderPlan.resolve(model.dir, dir, EncoderOptions.defaults()))
    assert(e.getMessage == message)
  }
}

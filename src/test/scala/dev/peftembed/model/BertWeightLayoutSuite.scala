package dev.peftembed.model

import dev.peftembed.embed.{EncoderOptions, SentenceEncoder}
import dev.peftembed.testkit.{ModelVariants, ScratchSpace, TinyPromptBert}
import java.util.TreeMap
import org.scalatest.funsuite.AnyFunSuite
import scala.util.Using

/** The driver checks the tensors the encoder reads: a checkpoint of exactly those must load and encode as before. */
class BertWeightLayoutSuite extends AnyFunSuite with ScratchSpace {
  test("the layout names every tensor the encoder reads, with the shapes it reads them at") {
    val source = TinyPromptBert.st
    val config = BertConfig.read(source.resolve("config.json"))
    val full = Checkpoint.open(source)
    val only = new TreeMap[String, SafetensorsWriter.Entry]()
    BertWeightLayout.forEach(config, (name, shape) =>
      only.put(name, new SafetensorsWriter.Entry(shape, full.read(name, shape: _*).data())))
    val names = SafetensorsFile.open(source.resolve("model.safetensors")).names()
    assert(only.size() > 0 && only.size() <= names.size())
    val dir = ModelVariants.copyOf(source)
    SafetensorsWriter.write(dir.resolve("model.safetensors"), only)
    val options = EncoderOptions.defaults().withDevice("cpu", "float32")
    def encode(d: java.nio.file.Path) =
      Using.resource(SentenceEncoder.load(d, null, options))(_.encode(java.util.List.of("a short text")).get(0).vector())
    assert(encode(dir).sameElements(encode(source)))
  }
}

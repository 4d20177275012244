package dev.peftembed.model

import dev.peftembed.embed.{EncoderOptions, SentenceEncoder}
import dev.peftembed.testkit.{ModelVariants, ScratchSpace, TinyEncoders, TinyMPNet, TinyPromptBert}
import java.util.TreeMap
import org.scalatest.funsuite.AnyFunSuite
import scala.jdk.CollectionConverters._
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

  for ((name, st) <- TinyEncoders.all.map(e => (e.name, e.st)) :+ ("mpnet", TinyMPNet.st)) {
    test(s"$name: the layout names exactly the tensors of a Hugging Face checkpoint, and a missing one fails") {
      val config = BertConfig.read(st.resolve("config.json"))
      val names = new java.util.TreeSet[String]()
      BertWeightLayout.forEach(config, (name, _) => names.add(name))
      assert(names == new java.util.TreeSet(SafetensorsFile.open(st.resolve("model.safetensors")).names()))
      val full = Checkpoint.open(st)
      val dropped = names.asScala.find(_.contains("layer.1.")).get
      val only = new TreeMap[String, SafetensorsWriter.Entry]()
      BertWeightLayout.forEach(config, (name, shape) => if (name != dropped)
        only.put(name, new SafetensorsWriter.Entry(shape, full.read(name, shape: _*).data())))
      val dir = ModelVariants.copyOf(st)
      SafetensorsWriter.write(dir.resolve("model.safetensors"), only)
      val e = intercept[ModelFormatException](BertWeightLayout.check(Checkpoint.open(dir), config))
      assert(e.getMessage.contains(dropped) && !e.getMessage.contains("\n"), e.getMessage)
    }
  }
}

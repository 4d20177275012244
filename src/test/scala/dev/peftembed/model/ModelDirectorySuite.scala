package dev.peftembed.model

import dev.peftembed.embed.{EncoderOptions, SentenceEncoder}
import dev.peftembed.pooling.PoolingMode
import dev.peftembed.testkit.{ModelVariants, ScratchSpace, TestModels}
import dev.peftembed.testkit.VectorMath.maxAbsDiff
import java.nio.file.{Files, Path}
import java.util.TreeMap
import org.scalatest.funsuite.AnyFunSuite
import scala.jdk.CollectionConverters._
import scala.util.Using

/** The layouts a model directory may come in, each read to the same vectors. */
class ModelDirectorySuite extends AnyFunSuite with ScratchSpace {
  private val model = TestModels.miniLm
  private val texts = Seq("sharded or not, the same model", "a second sentence", "")

  private def encode(dir: Path, adapter: Path = null): Seq[Array[Float]] =
    Using.resource(SentenceEncoder.load(dir, adapter, EncoderOptions.defaults().withDevice("cpu", "float32")))(
      _.encode(texts.asJava).asScala.map(_.vector).toSeq)

  test("sharded weights (model.safetensors.index.json) read the same as one file") {
    val dir = ModelVariants.copyOf(model.dir)
    val single = SafetensorsFile.open(model.dir.resolve("model.safetensors"))
    Files.delete(dir.resolve("model.safetensors"))
    val names = single.names().asScala.toSeq.sorted
    val (first, second) = names.splitAt(names.size / 2)
    val weightMap = new StringBuilder("{\"metadata\": {}, \"weight_map\": {")
    for ((part, shard) <- Seq(first -> "model-00001-of-00002.safetensors", second -> "model-00002-of-00002.safetensors")) {
      val tensors = new TreeMap[String, SafetensorsWriter.Entry]()
      part.foreach { n =>
        val t = single.read(n)
        tensors.put(n, new SafetensorsWriter.Entry(t.shape, t.data))
        weightMap.append(s"\"$n\": \"$shard\",")
      }
      SafetensorsWriter.write(dir.resolve(shard), tensors)
    }
    Files.writeString(dir.resolve("model.safetensors.index.json"), weightMap.dropRight(1).append("}}").toString)
    encode(dir).zip(encode(model.dir)).foreach { case (a, b) => assert(maxAbsDiff(a, b) == 0.0) }
  }

  test("a plain Hugging Face directory falls back to mean pooling, without Normalize") {
    val dir = ModelVariants.copyOf(model.dir)
    Files.delete(dir.resolve("modules.json"))
    val md = ModelDirectory.read(dir)
    assert(md.pooling.modes.asScala == Seq(PoolingMode.MEAN))
    assert(md.outputModules.isEmpty)
    val normalized = encode(model.dir)
    encode(dir).zip(normalized).foreach { case (raw, unit) =>
      val norm = math.sqrt(raw.map(x => x.toDouble * x).sum)
      assert(maxAbsDiff(raw.map(x => (x / norm).toFloat), unit) <= 1e-6)
    }
  }

  test("a P_TUNING adapter (the prompt encoder's saved output) encodes as prompt tuning does") {
    val (promptDir, _) = TestModels.promptAdapter(model, 8, seed = 8)
    val pTuning = ModelVariants.copyOf(promptDir)
    val config = pTuning.resolve("adapter_config.json")
    Files.writeString(config, Files.readString(config).replace("PROMPT_TUNING", "P_TUNING"))
    encode(model.dir, pTuning).zip(encode(model.dir, promptDir)).foreach { case (a, b) => assert(maxAbsDiff(a, b) == 0.0) }
  }

  test("max_seq_length of sentence_bert_config.json wins over tokenizer.json's own truncation") {
    val md = ModelDirectory.read(model.dir)
    assert(md.maxSeqLength == 256)
    val tokenizerTruncation = new com.fasterxml.jackson.databind.ObjectMapper()
      .readTree(model.dir.resolve("tokenizer.json").toFile).get("truncation").get("max_length").asInt
    assert(tokenizerTruncation == 128)
    val long = Using.resource(SentenceEncoder.load(model.dir, null, EncoderOptions.defaults()))(
      _.encode(java.util.List.of("word " * 400)).get(0))
    assert(long.numTokens == 256)
  }
}

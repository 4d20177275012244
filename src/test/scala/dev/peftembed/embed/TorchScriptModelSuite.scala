package dev.peftembed.embed

import ai.djl.Device
import ai.djl.engine.Engine
import dev.peftembed.model.{ModelFormatException, TorchScriptConfig}
import dev.peftembed.pooling.MaskAlignmentException
import dev.peftembed.testkit.{BadFiles, LogCapture, ScratchSpace, TinyPromptBert}
import dev.peftembed.testkit.TinyPromptBert.{promptGraph, plainGraph, dictGraph, variant}
import dev.peftembed.testkit.VectorMath.maxAbsDiff
import java.io.ByteArrayOutputStream
import java.nio.charset.StandardCharsets.UTF_8
import java.nio.file.{Files, Path}
import java.util.Random
import java.util.zip.{ZipEntry, ZipFile, ZipOutputStream}
import org.scalatest.funsuite.AnyFunSuite
import scala.jdk.CollectionConverters._
import scala.util.Using

/** TorchScript directories: what is read from which file, M declared or detected, and every error in one line. */
class TorchScriptModelSuite extends AnyFunSuite with ScratchSpace {
  private val cpu = EncoderOptions.defaults().withDevice("cpu", "float32")
  private val DetectionLog = "dev.peftembed.pooling.VirtualTokenCount"

  private def plan(dir: Path, options: EncoderOptions = cpu): EncoderPlan = EncoderPlan.resolve(dir, null, options)

  private def encode(dir: Path, texts: Seq[String], options: EncoderOptions = cpu): Seq[Embedding] =
    Using.resource(SentenceEncoder.load(dir, null, options))(_.encode(texts.asJava).asScala.toSeq)

  private def loadError[E <: Throwable](dir: Path, options: EncoderOptions = cpu)
      (implicit e: scala.reflect.ClassTag[E]): String =
    intercept[E](Using.resource(SentenceEncoder.load(dir, null, options))(_ => ())).getMessage

  private def oneLine(message: String, mentions: String*): Unit = {
    assert(!message.contains("\n"), message)
    mentions.foreach(m => assert(message.contains(m), s"'$message' does not say '$m'"))
  }

  test("model.pt without safetensors is a TorchScript directory; next to safetensors, the weights win") {
    assert(plan(promptGraph).model.isTorchScript)
    val both = variant(TinyPromptBert.st, write = Map("model.pt" -> "not read"))
    assert(!plan(both).model.isTorchScript)
  }

  test("max_seq_length: sentence_bert_config.json, else tokenizer.json's truncation, else 512; capped by config.json") {
    assert(plan(promptGraph).maxRealTokens == 128 - TinyPromptBert.VirtualTokens, "128 positions less M = 4")
    assert(plan(variant(promptGraph, remove = Seq("config.json"))).maxRealTokens == 128, "no position table known")
    assert(plan(plainGraph).maxRealTokens == 128, "tokenizer.json's truncation.max_length")
    val tokenizer = Files.readString(plainGraph.resolve("tokenizer.json"))
      .replaceFirst("\"truncation\": \\{[^}]*\\}", "\"truncation\": null")
    assert(plan(variant(plainGraph, write = Map("tokenizer.json" -> tokenizer))).maxRealTokens == 512)
  }

  test("the inputs come from forward's code, or serving.properties when it says; the width from a first run") {
    val graph = TorchScriptConfig.read(plainGraph)
    assert(graph.inputCount == 3 && graph.output == null && graph.declaredVirtualTokens == null)
    assert(graph.inputsFromServingProperties && graph.inputsDeclaredBy == plainGraph.resolve("serving.properties"))
    val dict = TorchScriptConfig.read(dictGraph)
    assert(dict.inputNames == "(input_ids, attention_mask)" && dict.inputsDeclaredBy == dictGraph.resolve("model.pt"))
    val unstated = variant(plainGraph, remove = Seq("serving.properties"))
    assert(TorchScriptConfig.read(unstated).inputNames == "(input_ids, attention_mask, token_type_ids)")
    assert(TorchScriptConfig.read(TinyPromptBert.varyingGraph).inputCount == 2, "a scripted graph's code too")
    val (dims, log) = LogCapture("dev.peftembed.model.ModelDirectory") {
      assert(plan(plainGraph).dimension == null, "no config states the width")
      Using.resource(SentenceEncoder.load(plainGraph, null, cpu))(_.dimension)
    }
    assert(dims == TinyPromptBert.Hidden)
    assert(log.exists(_.contains("no modules.json")), "mean pooling with a warning, as for plain HF directories")
    val cut = loadError[IllegalArgumentException](plainGraph, cpu.withOutput(Normalization.MODEL, 64))
    oneLine(cut, "truncate dim 64 exceeds the model's 32 dimensions")
  }

  test("an undeclared M is detected at load and logged once; the vectors equal those of the declared M") {
    val undeclared = variant(promptGraph, remove = Seq("adapter_config.json"))
    val (vectors, log) = LogCapture(DetectionLog)(encode(undeclared, TinyPromptBert.texts))
    assert(log.count(_.contains("detected M = 4 virtual tokens")) == 1, log)
    assert(log.head.contains("the output of " + undeclared.resolve("model.pt")))
    val declared = encode(promptGraph, TinyPromptBert.texts)
    vectors.zip(declared).foreach { case (a, b) =>
      assert(maxAbsDiff(a.vector, b.vector) == 0.0 && a.numTokens == b.numTokens)
    }
    assert(vectors.map(_.numTokens).max == 124, "the detected M = 4 fits config.json's 128 positions as a declared one")
  }

  test("a declared M that disagrees with the graph fails at load, naming both") {
    val config = Files.readString(promptGraph.resolve("adapter_config.json"))
      .replace("\"num_virtual_tokens\": 4", "\"num_virtual_tokens\": 3")
    val dir = variant(promptGraph, write = Map("adapter_config.json" -> config))
    oneLine(loadError[MaskAlignmentException](dir), "M = 3 virtual tokens declared by " +
      dir.resolve("adapter_config.json"), "the output shows M = 4")
  }

  test("prefix tuning declares no extra positions: its virtual tokens are attention keys") {
    val prefix = Files.readString(promptGraph.resolve("adapter_config.json")).replace("PROMPT_TUNING", "PREFIX_TUNING")
    val dir = variant(plainGraph, write = Map("adapter_config.json" -> prefix))
    assert(plan(dir).virtualTokens == 0 && plan(dir).declaresVirtualTokens)
    assert(encode(dir, Seq("a dog")).head.vector.length == TinyPromptBert.Hidden)
  }

  test("an M that changes with the input, or an output shorter than the mask, is a clear error, never a shape error") {
    Using.resource(SentenceEncoder.load(TinyPromptBert.varyingGraph, null, cpu)) { encoder =>
      // Loading ran [CLS] [SEP]: 2 positions in, 3 out, so M = 1 is detected.
      val shorter = intercept[MaskAlignmentException](encoder.encode(Seq("a").asJava)).getMessage
      oneLine(shorter, "token embeddings of shape [1, 2, H] for an attention mask of shape [1, 3]",
        "shorter than the mask")
      val changed = intercept[MaskAlignmentException](encoder.encode(Seq("a b").asJava)).getMessage
      oneLine(changed, "so M = 0 virtual tokens, but the first batch showed M = 1")
      Seq(shorter, changed).foreach(m => assert(!m.contains("expanded size")))
      assert(encoder.encode(Seq("a b c").asJava).get(0).vector.length == 8, "N = 5 shows M = 1 again")
    }
  }

  test("a corrupt model.pt, or a torch.save pickle archive, is one line naming the file, not a crash") {
    val garbage = new Array[Byte](4096)
    new Random(3).nextBytes(garbage)
    val pickleZip = new ByteArrayOutputStream()
    Using.resource(new ZipOutputStream(pickleZip)) { zip =>
      zip.putNextEntry(new ZipEntry("archive/data.pkl"))
      zip.write(Array[Byte](0x80.toByte, 2, ']'.toByte, '.'.toByte))
      zip.closeEntry()
    }
    for (bytes <- Seq(garbage, pickleZip.toByteArray, Array.emptyByteArray)) {
      val dir = variant(promptGraph)
      Files.write(dir.resolve("model.pt"), bytes)
      // Refused from the zip structure, before libtorch reads the file.
      oneLine(intercept[ModelFormatException](plan(dir)).getMessage, dir.resolve("model.pt").toString,
        "torch.jit.save")
    }
  }

  test("a graph given the wrong number of inputs fails at load, saying which serving.properties key to set") {
    val twoForThree = variant(plainGraph, write = Map("serving.properties" -> "includeTokenTypes=false\n"))
    oneLine(loadError[ModelFormatException](twoForThree), "model.pt", "given (input_ids, attention_mask)",
      "set includeTokenTypes=true in serving.properties")
    val threeForTwo = variant(promptGraph, write = Map("serving.properties" -> "includeTokenTypes=true\n"))
    oneLine(loadError[ModelFormatException](threeForTwo), "set includeTokenTypes=false")
    val bad = variant(promptGraph, write = Map("serving.properties" -> "includeTokenTypes=yes\n"))
    oneLine(intercept[ModelFormatException](plan(bad)).getMessage, "serving.properties",
      "includeTokenTypes must be true or false")
  }

  /** A copy of the HF BertModel trace whose code record has `edit` applied to its source. */
  private def hfCode(edit: String => String): Path = {
    val record = "model/code/__torch__/transformers/models/bert/modeling_bert.py"
    BadFiles.variantWith(TinyPromptBert.hfBertGraph, "model.pt") { (src, dst) =>
      val code = Using.resource(new ZipFile(src.toFile))(z => new String(z.getInputStream(z.getEntry(record))
        .readAllBytes(), UTF_8))
      val edited = edit(code)
      assert(edited != code, "the edit changed nothing")
      BadFiles.replaceZipRecord(src, dst, record, edited.getBytes(UTF_8))
    }
  }

  private val Params = "    input_ids: Tensor,\n    attention_mask: Tensor,\n    token_type_ids: Tensor)"

  test("inputs are passed by the names forward declares, in its order, whatever the order is") {
    // The same length, so the code's debug records still point at the same places.
    val reordered = hfCode(_.replace(Params,
      "    token_type_ids: Tensor,\n    input_ids: Tensor,\n    attention_mask: Tensor)"))
    assert(TorchScriptConfig.read(reordered).inputNames == "(token_type_ids, input_ids, attention_mask)")
    val texts = Seq("a man is eating food.", "x", "the quick brown fox jumps over the lazy dog")
    encode(reordered, texts).zip(encode(TinyPromptBert.hfBertGraph, texts)).foreach { case (a, b) =>
      assert(maxAbsDiff(a.vector, b.vector) == 0.0)
    }
    // By position, the ids land in token_type_ids, whose table has 2 rows: the first run at load fails.
    val byPosition = variant(reordered, write = Map("serving.properties" -> "includeTokenTypes=true\n"))
    assert(TorchScriptConfig.read(byPosition).inputNames == "(input_ids, attention_mask, token_type_ids)",
      "serving.properties overrides the code")
    oneLine(loadError[ModelFormatException](byPosition), "model.pt",
      "given (input_ids, attention_mask, token_type_ids)")
  }

  test("a forward signature that cannot be read, or takes what we cannot give, is one line naming the file") {
    val expected = "expected forward(self, input_ids: Tensor, attention_mask: Tensor[, token_type_ids: Tensor])"
    def refused(dir: Path, mentions: String*): Unit =
      oneLine(intercept[ModelFormatException](plan(dir)).getMessage, (dir.resolve("model.pt").toString +: mentions): _*)
    refused(hfCode(_.replace("    input_ids: Tensor,", "    pixels: Tensor,  ")), "takes \"pixels\", which this "
      + "program cannot provide", "modeling_bert.py", expected, "includeTokenTypes")
    refused(hfCode(_.replace("    input_ids: Tensor,", "    input_ids: List[int],")), "takes input_ids as List[int]",
      expected)
    refused(hfCode(_.replace("attention_mask: Tensor,", "position_ids: Tensor=None,")), "takes token_type_ids after a "
      + "parameter left to its default")
    refused(hfCode(_.replace("class BertModel(Module):", "class Other(Module):")), "has no class BertModel")
    refused(hfCode(_.replace("def forward(", "def backward(")), "class BertModel in", "has no forward method")
    refused(hfCode(_.replace("token_type_ids: Tensor)", "token_type_ids: Tensor")), "does not close")
    val overridden = variant(hfCode(_.replace("    input_ids: Tensor,", "    pixels: Tensor,  ")),
      write = Map("serving.properties" -> "includeTokenTypes=true\n"))
    assert(TorchScriptConfig.read(overridden).inputCount == 3, "serving.properties is the way around an odd signature")
  }

  test("the output is chosen by peftembed.output: a tuple index or a dict key; a wrong choice is a clear error") {
    def withOutput(dir: Path, output: String) = variant(dir, write = Map("serving.properties" ->
      s"includeTokenTypes=${dir == plainGraph}\npeftembed.output=$output\n"))
    oneLine(loadError[ModelFormatException](withOutput(plainGraph, "1")), "model.pt",
      "the graph's output \"1\" has shape (1, 32) for a batch of 1 rows",
      "expected token embeddings [1, positions, hidden]")
    oneLine(loadError[ModelFormatException](withOutput(plainGraph, "2")), "a tuple or list of 2 entries",
      "out of range")
    oneLine(loadError[ModelFormatException](withOutput(dictGraph, "hidden")),
      "a dict without \"hidden\" (keys: [last_hidden_state, pooler_output])")
    oneLine(loadError[ModelFormatException](withOutput(promptGraph, "1")), "returns a single tensor")
    val expected = encode(dictGraph, Seq("a dog"))
    val named = encode(withOutput(dictGraph, "last_hidden_state"), Seq("a dog"))
    assert(maxAbsDiff(named.head.vector, expected.head.vector) == 0.0)
  }

  test("an adapter next to a TorchScript model, and float16, are refused on the driver") {
    val adapter = intercept[IllegalArgumentException](EncoderPlan.resolve(promptGraph, TinyPromptBert.adapter, cpu))
    oneLine(adapter.getMessage, "an adapter cannot be applied to the TorchScript model",
      "put adapter_config.json into the model directory")
    val half = intercept[IllegalArgumentException](plan(promptGraph, cpu.withDevice("gpu", "float16")))
    oneLine(half.getMessage, "dtype float16 is not available for the TorchScript model", "model.half()")
  }

  test("device options work as for native models") {
    Using.resource(SentenceEncoder.load(promptGraph, null, cpu))(e => assert(e.device == Device.cpu()))
    if (Engine.getEngine("PyTorch").getGpuCount == 0) {
      oneLine(loadError[IllegalArgumentException](promptGraph, cpu.withDevice("gpu", "float32")),
        "device gpu was asked for but libtorch sees no GPU")
    } else {
      val gpu = encode(promptGraph, TinyPromptBert.texts, cpu.withDevice("gpu", "float32"))
      encode(promptGraph, TinyPromptBert.texts).zip(gpu).foreach { case (c, g) =>
        assert(maxAbsDiff(c.vector, g.vector) <= 1e-4)
      }
    }
  }
}

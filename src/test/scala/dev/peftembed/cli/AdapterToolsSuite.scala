package dev.peftembed.cli

import com.fasterxml.jackson.databind.{JsonNode, ObjectMapper}
import dev.peftembed.model.SafetensorsFile
import dev.peftembed.peft.TextPromptInit
import dev.peftembed.text.TextTokenizer
import dev.peftembed.testkit.{Console, ScratchSpace, TestModels}
import java.nio.file.{Files, Path}
import org.scalatest.funsuite.AnyFunSuite
import scala.jdk.CollectionConverters._
import scala.util.Using

/** `new-adapter` builds PEFT's TEXT-initialised prompt; `inspect` shows the mask problem with libtorch's own words. */
class AdapterToolsSuite extends AnyFunSuite with ScratchSpace {
  private val json = new ObjectMapper()
  private val model = TestModels.miniLm
  private val initText = "Represent this sentence for retrieval:"

  private def run(args: String*): JsonNode = {
    val (code, out, err) = Console.run(args: _*)
    assert(code == 0, err)
    json.readTree(out.linesIterator.filter(_.startsWith("{")).toSeq.last)
  }

  private def newAdapter(m: Int, text: String = initText): (Path, JsonNode) = {
    val dir = scratch.dir("adapter").resolve("a")
    (dir, run("new-adapter", "--model", model.dir.toString, "--virtual-tokens", m.toString, "--init-text", text,
      "--out", dir.toString))
  }

  private def textIds(text: String): Seq[Long] =
    Using.resource(TextTokenizer.load(model.dir.resolve("tokenizer.json"), 512, false))(
      _.encode(java.util.List.of(text)).get(0).ids().toSeq)

  test("PEFT's TEXT init: the text's ids with [CLS] and [SEP], repeated until M, then cut") {
    assert(TextPromptInit.virtualTokenIds(Array(101L, 7L, 102L), 7).toSeq == Seq(101, 7, 102, 101, 7, 102, 101))
    assert(TextPromptInit.virtualTokenIds(Array(101L, 7L, 8L, 9L, 102L), 3).toSeq == Seq(101, 7, 8))
    assertThrows[IllegalArgumentException](TextPromptInit.virtualTokenIds(Array(101L), 0))
  }

  test("new-adapter writes the word-table rows of the init text's tokens, in PEFT's layout, deterministically") {
    val ids = textIds(initText)
    assert(ids.head == 101 && ids.last == 102 && ids.size == 8)
    for (m <- Seq(5, 20)) {
      val (dir, line) = newAdapter(m)
      val expectedIds = Seq.tabulate(m)(i => ids(i % ids.size))
      assert(line.get("token_ids").elements().asScala.map(_.asLong).toSeq == expectedIds)
      val config = json.readTree(dir.resolve("adapter_config.json").toFile)
      assert(config.get("peft_type").asText == "PROMPT_TUNING" && config.get("num_virtual_tokens").asInt == m)
      assert(config.get("prompt_tuning_init").asText == "TEXT")
      assert(config.get("prompt_tuning_init_text").asText == initText)
      assert(config.get("base_model_name_or_path").asText == model.dir.getFileName.toString)
      val table = TestModels.wordTable(model)
      val h = model.config.hiddenSize
      val weights = SafetensorsFile.open(dir.resolve("adapter_model.safetensors")).read("prompt_embeddings")
      assert(weights.shape.toSeq == Seq(m.toLong, h.toLong))
      val rows = weights.data
      for (r <- 0 until m) {
        val id = expectedIds(r).toInt
        assert(rows.slice(r * h, (r + 1) * h).sameElements(table.slice(id * h, (id + 1) * h)), s"row $r")
      }
      val (again, _) = newAdapter(m)
      for (f <- Seq("adapter_config.json", "adapter_model.safetensors")) {
        assert(Files.readAllBytes(again.resolve(f)).sameElements(Files.readAllBytes(dir.resolve(f))), f)
      }
    }
  }

  test("new-adapter refuses to overwrite an adapter unless told to") {
    val (dir, _) = newAdapter(4)
    val (code, _, err) = Console.run("new-adapter", "--model", model.dir.toString, "--out", dir.toString)
    assert(code == 2 && err.contains("already holds an adapter (pass --overwrite to replace it)"))
  }

  test("inspect reproduces libtorch's expand failure with the real lengths, and the aligned mask pools as encode") {
    val m = 8
    val (adapter, _) = newAdapter(m)
    val text = "How do I reverse a list in Python?"
    val n = textIds(text).size
    for (policy <- Seq("include", "exclude")) {
      val r = run("inspect", "--model", model.dir.toString, "--adapter", adapter.toString, "--virtual-tokens",
        policy, "--text", text)
      assert(r.get("real_tokens").asInt == n && r.get("virtual_tokens").asInt == m)
      assert(r.get("output_length").asInt == n + m)
      val naive = r.get("naive_pooling")
      assert(!naive.get("ok").asBoolean)
      val error = naive.get("error").asText
      assert(error.contains(s"The expanded size of the tensor (${n + m}) must match the existing size ($n)"), error)
      assert(!error.contains("Exception raised from"), "libtorch's C++ stack is cut off")
      val aligned = r.get("aligned_pooling")
      assert(aligned.get("ok").asBoolean && aligned.get("policy").asText == policy)
      assert(aligned.get("expanded_shape").elements().asScala.map(_.asInt).toSeq == Seq(1, n + m, 384))
      assert(math.abs(aligned.get("cosine_with_encode").asDouble - 1.0) < 1e-6)
      val include = r.get("masks").get("include").elements().asScala.map(_.asInt).toSeq
      val exclude = r.get("masks").get("exclude").elements().asScala.map(_.asInt).toSeq
      assert(include == Seq.fill(n + m)(1))
      assert(exclude == Seq.fill(m)(0) ++ Seq.fill(n)(1))
    }
  }

  test("inspect without an adapter: the output is as long as the mask and the naive pooling works") {
    val r = run("inspect", "--model", model.dir.toString, "--text", "short text")
    assert(r.get("virtual_tokens").asInt == 0)
    assert(r.get("output_length").asInt == r.get("real_tokens").asInt)
    assert(r.get("naive_pooling").get("ok").asBoolean && r.get("naive_pooling").get("error").isNull)
  }
}

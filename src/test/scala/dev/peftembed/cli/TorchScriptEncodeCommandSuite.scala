package dev.peftembed.cli

import com.fasterxml.jackson.databind.ObjectMapper
import dev.peftembed.embed.{EncoderOptions, SentenceEncoder}
import dev.peftembed.testkit.{Console, ScratchSpace, TinyPromptBert}
import dev.peftembed.testkit.VectorMath.maxAbsDiff
import java.nio.file.{Files, Path}
import org.scalatest.funsuite.AnyFunSuite
import scala.jdk.CollectionConverters._
import scala.util.Using

/** `peft-embed encode --model <TorchScript directory>`, with and without a declared M, as a user runs it. */
class TorchScriptEncodeCommandSuite extends AnyFunSuite with ScratchSpace {
  private val json = new ObjectMapper()
  private val texts = TinyPromptBert.texts

  private def run(args: String*): (Int, String) = {
    val (code, _, err) = Console.run(args: _*)
    (code, err)
  }

  private lazy val input: Path = Files.write(scratch.file("in", ".jsonl"),
    texts.zipWithIndex.map { case (t, i) => json.writeValueAsString(Map("id" -> i, "text" -> t).asJava) }.asJava)

  private lazy val native = Using.resource(SentenceEncoder.load(TinyPromptBert.st, TinyPromptBert.adapter,
    EncoderOptions.defaults().withDevice("cpu", "float32")))(_.encode(texts.asJava).asScala.toSeq)

  for ((label, dir) <- Seq(
    "a declared M" -> (() => TinyPromptBert.promptGraph),
    "an undeclared M" -> (() => TinyPromptBert.variant(TinyPromptBert.promptGraph, remove = Seq("adapter_config.json")))
  )) {
    test(s"encode embeds the prompt-tuned TorchScript fixture with $label as the native path does") {
      val out = scratch.file("out", ".jsonl")
      val (code, err) = run("encode", "--model", dir().toString, "--input", input.toString, "--output",
        out.toString, "--device", "cpu", "--batch-size", "4")
      assert(code == 0, err)
      val rows = Files.readAllLines(out).asScala.map(json.readTree).toSeq
      assert(rows.map(_.get("id").asInt) == texts.indices)
      rows.zip(native).foreach { case (row, expected) =>
        val vector = row.get("embedding").elements().asScala.map(_.floatValue).toArray
        assert(maxAbsDiff(vector, expected.vector) <= 1e-5)
        assert(row.get("num_tokens").asInt == expected.numTokens)
        assert(row.get("truncated").asBoolean == expected.truncated)
      }
    }
  }

  test("a corrupt model.pt exits 2 with one line on stderr naming the file") {
    val dir = TinyPromptBert.variant(TinyPromptBert.promptGraph, write = Map("model.pt" -> "not a TorchScript archive"))
    val (code, err) = run("encode", "--model", dir.toString, "--input", input.toString, "--device", "cpu")
    assert(code == 2)
    val lines = err.linesIterator.filter(_.startsWith("peft-embed:")).toSeq
    assert(lines == Seq(s"peft-embed: error: ${dir.resolve("model.pt")}: is not a readable zip archive (zip END " +
      "header not found): truncated or corrupt; expected a TorchScript archive written by torch.jit.save"), err)
  }
}

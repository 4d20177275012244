package dev.peftembed.cli

import com.fasterxml.jackson.databind.ObjectMapper
import dev.peftembed.embed.{EncoderOptions, SentenceEncoder}
import dev.peftembed.testkit.{Console, ScratchSpace, TestModels}
import java.nio.file.{Files, Path}
import org.scalatest.funsuite.AnyFunSuite
import scala.jdk.CollectionConverters._
import scala.util.Using

/** The encode command as a user runs it: files in and out, order, nulls, exact floats, exit codes. */
class EncodeCommandSuite extends AnyFunSuite with ScratchSpace {
  private val json = new ObjectMapper()
  private val model = TestModels.miniLm

  private def run(args: String*): (Int, String) = {
    val (code, _, err) = Console.run(args: _*)
    (code, err)
  }

  test("rows come out in input order, with ids, nulls kept, and floats that round-trip float32 exactly") {
    val texts = Seq("A man is playing a guitar.", "word " * 400, "", "Привет мир", "short")
    val lines = texts.zipWithIndex.map { case (t, i) => json.writeValueAsString(Map("id" -> s"r$i", "text" -> t).asJava) } ++
      Seq("""{"id": 99, "text": null}""", """{"id": 100}""", "this is not json", """{"id": 101, "text": 5}""")
    val in = Files.write(scratch.file("in", ".jsonl"), lines.asJava)
    val out = scratch.file("out", ".jsonl")
    val (code, _) = run("encode", "--model", model.dir.toString, "--input", in.toString, "--output", out.toString,
      "--batch-size", "2")
    assert(code == 0)
    val rows = Files.readAllLines(out).asScala.map(json.readTree).toSeq
    assert(rows.size == lines.size)
    assert(rows.take(5).map(_.get("id").asText) == texts.indices.map(i => s"r$i"))
    assert(rows(5).get("id").asInt == 99 && rows(5).get("embedding").isNull)
    assert(rows(6).get("id").asInt == 100 && rows(6).get("embedding").isNull)
    assert(rows(7).get("error").asText.contains("line 8: not valid JSON"))
    assert(rows(8).get("error").asText.contains("is not a string"))
    assert(rows(1).get("truncated").asBoolean && rows(1).get("num_tokens").asInt == 256)
    assert(!rows(0).get("truncated").asBoolean && rows(0).get("num_tokens").asInt == 9)

    val expected = Using.resource(SentenceEncoder.load(model.dir, null, EncoderOptions.defaults().withBatching(2, 16384)))(
      _.encode(texts.asJava).asScala.map(_.vector))
    texts.indices.foreach { i =>
      val printed = rows(i).get("embedding").elements().asScala.map(_.asText.toFloat).toArray
      assert(printed.sameElements(expected(i)), s"row $i does not round-trip")
    }
  }

  test("a config error exits non-zero with one line on stderr") {
    val in = Files.write(scratch.file("in", ".jsonl"), Seq("""{"id":1,"text":"x"}""").asJava)
    val (code, err) = run("encode", "--model", "/no/such/dir", "--input", in.toString)
    assert(code == 2)
    val errLines = err.linesIterator.filter(_.startsWith("peft-embed:")).toSeq
    assert(errLines == Seq("peft-embed: error: /no/such/dir: model directory not found (expected a " +
      "sentence-transformers or Hugging Face model directory with config.json, model.safetensors and tokenizer.json)"))
  }

  test("a bad option exits non-zero with a clear message") {
    val (code, err) = run("encode", "--model", model.dir.toString, "--virtual-tokens", "sometimes")
    assert(code == 2)
    assert(err.contains("virtual tokens policy must be include or exclude, got \"sometimes\""))
  }
}

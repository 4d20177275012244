package dev.peftembed.cli

import com.fasterxml.jackson.databind.ObjectMapper
import dev.peftembed.testkit.{AdapterMix, Console, LogCapture, ScratchSpace}
import java.nio.file.Files
import org.scalatest.funsuite.AnyFunSuite
import scala.jdk.CollectionConverters._

/** `encode` with four named adapters of every kind over one base model, rows shuffled. */
class MultiAdapterEncodeSuite extends AnyFunSuite with ScratchSpace {
  private val json = new ObjectMapper()

  private def line(id: Int, text: String, adapter: Option[String]): String = {
    val fields = Map[String, Any]("id" -> id, "text" -> text) ++ adapter.map("adapter" -> _)
    json.writeValueAsString(fields.asJava)
  }

  test("every row of a shuffled mix of 4 adapters and the base model gets its single-adapter vector") {
    val rows = AdapterMix.rows
    val in = Files.write(scratch.file("mix", ".jsonl"), rows.map(r => line(r.id, r.text, r.adapter)).asJava)
    val out = scratch.file("mix-out", ".jsonl")
    val args = Seq("encode", "--model", AdapterMix.model.dir.toString, "--input", in.toString, "--output",
      out.toString, "--device", "cpu", "--batch-size", "8") ++ AdapterMix.specs.flatMap(s => Seq("--adapter", s))
    val (code, _, err) = Console.run(args: _*)
    assert(code == 0, err)
    val written = Files.readAllLines(out).asScala.map(json.readTree).toSeq
    assert(written.map(_.get("id").asInt) == rows.map(_.id), "rows out of order, lost or duplicated")
    val vectors = written.map(n => n.get("id").asInt -> n.get("embedding").elements().asScala.map(_.floatValue)
      .toArray).toMap
    val (reference, single) = AdapterMix.check(vectors)
    info(s"encode, ${rows.size} rows over 4 adapters and the base: Python references $reference; " +
      f"worst max|Δ| from single-adapter runs $single%.2e")
  }

  test("a row naming an undeclared adapter keeps its place, has no embedding, and its error names the adapter") {
    val lines = Seq(line(1, "a cat", Some("lora-all")), line(2, "a dog", Some("nope")), line(3, "a bird", None),
      """{"id": 4, "text": "a fish", "adapter": null}""", """{"id": 5, "text": "x", "adapter": 3}""")
    val in = Files.write(scratch.file("unknown", ".jsonl"), lines.asJava)
    val out = scratch.file("unknown-out", ".jsonl")
    val ((code, _, err), log) = LogCapture("dev.peftembed.cli.EncodeCommand") {
      Console.run(Seq("encode", "--model", AdapterMix.model.dir.toString, "--input", in.toString, "--output",
        out.toString, "--device", "cpu", "--adapter", s"lora-all=${AdapterMix.adapters("lora-all")}"): _*)
    }
    assert(code == 0, err)
    val rows = Files.readAllLines(out).asScala.map(json.readTree).toSeq
    assert(rows.map(_.get("id").asInt) == Seq(1, 2, 3, 4, 5))
    assert(rows(1).get("embedding").isNull)
    assert(rows(1).get("error").asText == "unknown adapter \"nope\" (declared: lora-all; no name for the base model)")
    assert(Seq(0, 2, 3).forall(i => rows(i).get("embedding").isArray && !rows(i).has("error")))
    assert(rows(4).get("error").asText == "line 5: field \"adapter\" is not a string")
    assert(log.exists(_.contains("bad rows 1, unknown_adapter 1,")), log)
  }

  test("a bare --adapter DIR beside named ones fails in one line") {
    val (code, _, err) = Console.run("encode", "--model", AdapterMix.model.dir.toString, "--input", "/dev/null",
      "--adapter", "a=/x", "--adapter", "/y")
    assert(code == Main.USAGE_ERROR)
    assert(err.linesIterator.filter(_.startsWith("peft-embed:")).toSeq == Seq("peft-embed: error: --adapter /y: a " +
      "DIR without NAME= applies to every row, so it must be the only --adapter; name each adapter (NAME=DIR) to let " +
      "rows pick one"))
  }

  test("a bad adapter among many fails before any row, in one line naming its file") {
    val bad = scratch.dir("bad-adapter")
    Files.writeString(bad.resolve("adapter_config.json"), """{"peft_type": "LORA", "r": 0}""")
    val (code, _, err) = Console.run("encode", "--model", AdapterMix.model.dir.toString, "--input", "/dev/null",
      "--adapter", s"lora-all=${AdapterMix.adapters("lora-all")}", "--adapter", s"bad=$bad")
    assert(code != 0)
    val lines = err.linesIterator.filter(_.startsWith("peft-embed:")).toSeq
    assert(lines.size == 1 && lines.head.contains(bad.resolve("adapter_config.json").toString), lines)
  }
}

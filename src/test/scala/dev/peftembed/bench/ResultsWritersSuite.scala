package dev.peftembed.bench

import com.fasterxml.jackson.databind.ObjectMapper
import java.io.StringWriter
import org.scalatest.funsuite.AnyFunSuite
import scala.jdk.CollectionConverters._

/** The CSV and the summary line carry the documented columns and keys, and compute the ratios as documented. */
class ResultsWritersSuite extends AnyFunSuite {
  private def row(system: String, corpus: String, texts: Long, textsPerSecond: Double,
      padding: java.lang.Double = null, gflops: java.lang.Double = null, rss: java.lang.Double = null): ResultRow =
    new ResultRow(system, s"system $system, with a comma", corpus, texts, 5, 1.0, 0.9, 1.1, textsPerSecond,
      textsPerSecond * 40, padding, gflops, null, null, null, rss)

  private val rows = java.util.List.of(
    row("a", "short", 500, 450, rss = 900.04),
    row("a", "mixed", 500, 150, padding = 0.93, gflops = 140.0, rss = 900.04),
    row("b", "short", 500, 300),
    row("b", "mixed", 500, 120),
    row("c", "mixed", 500, 50),
    row("d", "mixed", 500, 125),
    row("e", "short", 20000, 400),
    row("e", "short", 100000, 405),
    new ResultRow("f", "matmul", "matmul", null, 5, 0.25, 0.2, 0.3, null, null, null, 280.0, null, null, null, null))

  test("the summary line has exactly the documented keys, in order, and the documented ratios") {
    val json = Summary.from(rows).toJson
    val node = new ObjectMapper().readTree(json)
    assert(node.fieldNames().asScala.toSeq == Seq("a_over_b", "a_over_c", "a_over_d", "a_over_b_short",
      "e_over_a", "padding_efficiency", "gflops_fraction", "peak_rss_mb"))
    assert(Summary.KEYS.asScala.toSeq == node.fieldNames().asScala.toSeq)
    assert(node.get("a_over_b").asDouble == 1.25)
    assert(node.get("a_over_c").asDouble == 3.0)
    assert(node.get("a_over_d").asDouble == 1.2)
    assert(node.get("a_over_b_short").asDouble == 1.5)
    assert(node.get("e_over_a").asDouble == 0.9, "e at its largest row count over a on the same corpus")
    assert(node.get("padding_efficiency").asDouble == 0.93)
    assert(node.get("gflops_fraction").asDouble == 0.5)
    assert(node.get("peak_rss_mb").asDouble == 900.0)
    assert(!json.contains("\n"), "one line")
  }

  test("a figure whose systems did not run is null, and the key is still there") {
    val onlyA = java.util.List.of(row("a", "mixed", 500, 150, padding = 0.93))
    val node = new ObjectMapper().readTree(Summary.from(onlyA).toJson)
    assert(node.size == Summary.KEYS.size)
    assert(node.get("a_over_b").isNull && node.get("e_over_a").isNull && node.get("gflops_fraction").isNull)
    assert(node.get("padding_efficiency").asDouble == 0.93)
  }

  test("the CSV has the documented header, one line per row, every line as wide as the header") {
    val out = new StringWriter()
    ResultsCsv.write(out, "2026-11-28", "host-1", rows)
    val lines = out.toString.split("\n").toSeq
    assert(lines.head == "date,machine,system,description,corpus,texts,repetitions,median_s,min_s,max_s," +
      "texts_per_s,real_tokens_per_s,padding_efficiency,model_gflops,mean_cos_vs_a,min_cos_vs_a,baseline_s,peak_rss_mb")
    assert(ResultsCsv.HEADER.asScala.mkString(",") == lines.head)
    assert(lines.size == rows.size + 1)
    // A quoted description holds a comma; split outside quotes only.
    val cells = lines.tail.map(_.split(""",(?=(?:[^"]*"[^"]*")*[^"]*$)""", -1).toSeq)
    assert(cells.forall(_.size == ResultsCsv.HEADER.size))
    val a = cells.head
    assert(a(2) == "a" && a(3) == "\"system a, with a comma\"" && a(4) == "short" && a(5) == "500")
    assert(a(10).toDouble == 450 && a(12) == "" && a(17).toDouble == 900.04)
    assert(cells.last(2) == "f" && cells.last(5) == "" && cells.last(13).toDouble == 280)
  }
}

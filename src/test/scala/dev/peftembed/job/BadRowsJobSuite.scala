package dev.peftembed.job

import com.fasterxml.jackson.databind.ObjectMapper
import dev.peftembed.cli.Main
import dev.peftembed.spark.PeftEmbedder
import dev.peftembed.testkit.{Console, LocalSparkSession, ScratchSpace, TestModels}
import java.nio.charset.StandardCharsets.UTF_8
import java.nio.file.Files
import org.apache.spark.sql.SaveMode
import org.apache.spark.sql.functions.{col, size}
import org.scalatest.funsuite.AnyFunSuite
import scala.jdk.CollectionConverters._

/**
 * A 50k-row table seeded with every kind of bad text goes through the real embed job: no row lost or duplicated, each
 * kind counted in the summary exactly as seeded, and each row's result the one the README's bad-rows policy promises.
 */
class BadRowsJobSuite extends AnyFunSuite with LocalSparkSession with ScratchSpace {
  private val json = new ObjectMapper()
  private val rows = 50000
  private val maxSeqLength = 16
  private val hugeIds = Set(7L, 25013L, 49999L)
  private val fiveMb = {
    val unit = "lorem ipsum dolor sit amet, consectetur adipiscing elit "
    unit * (5000000 / unit.length)
  }

  /** The kind a row is seeded with; the kinds the summary counts are decided from these, never from the output. */
  private sealed trait Kind
  private case object Normal extends Kind
  private case object NullText extends Kind
  private case object Empty extends Kind
  private case object Blank extends Kind
  private case object Control extends Kind
  private case object LoneSurrogate extends Kind
  private case object Replacement extends Kind
  private case object RightToLeft extends Kind
  private case object Long extends Kind
  private case object Huge extends Kind

  private def kind(id: Long): Kind =
    if (hugeIds(id)) Huge
    else if (id % 500 == 3) Long
    else (id % 10).toInt match {
      case 1 => NullText
      case 2 => Empty
      case 3 => Blank
      case 4 => Control
      case 5 => LoneSurrogate
      case 6 => Replacement
      case 7 => RightToLeft
      case _ => Normal
    }

  /**
   * One JSON line. Lone surrogates are written as JSON escapes: a Java string holding one cannot even be encoded as
   * UTF-8, so an escape is the only way such a text reaches a reader.
   */
  private def line(id: Long): String = {
    def obj(text: String) = json.writeValueAsString(Map[String, Any]("id" -> id, "text" -> text).asJava)
    val v = (id / 10 % 3).toInt
    kind(id) match {
      case Normal => obj(s"row $id about ${Seq("cats", "rain", "code")(v)}")
      case NullText => obj(null)
      case Empty => obj("")
      case Blank => obj(Seq("   ", "\t\n \r", "\u00a0\u3000\u2003")(v))
      case Control => obj(Seq(s"nul \u0000 row $id", s"bell \u0007 row $id", s"esc \u001b[0m row $id")(v))
      case LoneSurrogate =>
        s"""{"id":$id,"text":"${Seq("high \\ud800 row", "low \\udc00 row", "reversed \\udc00\\ud800 row")(v)} $id"}"""
      case Replacement => obj(s"broken \ufffd bytes row $id")
      case RightToLeft => obj(Seq(s"שלום row $id", s"e\u0301\u0302\u0303 combining row $id",
        s"\u202eمرحبا $id")(v))
      case Long => obj(s"row $id " + "a rather long sentence that goes on " * 4)
      case Huge => obj(fiveMb)
    }
  }

  test(s"$rows rows with every bad kind: rows_in == rows_out, ids unchanged, each kind counted as seeded") {
    val dir = scratch.dir("bad-rows-job")
    val input = Files.createDirectories(dir.resolve("in"))
    val files = 4
    (0 until files).foreach { f =>
      Files.write(input.resolve(s"part-$f.jsonl"),
        (f.toLong until rows by files).map(line).asJava, UTF_8)
    }
    val seeded = (0L until rows).groupBy(kind).view.mapValues(_.size.toLong).toMap.withDefaultValue(0L)
    val output = dir.resolve("out")
    val stage = new PeftEmbedder().setModelPath(TestModels.miniLm.dir.toString).setMaxSeqLength(maxSeqLength)
      .setBatchSize(256)

    val start = System.nanoTime()
    val s = EmbedJob.run(spark, new EmbedJob.Request(input.toString, InputFormat.JSONL, "text", "id",
      output.toString, OutputFormat.PARQUET, SaveMode.ErrorIfExists, stage, 3600))
    info(f"$rows rows in ${(System.nanoTime() - start) / 1e9}%.1f s: ${s.toJson}")

    val summary = json.readTree(s.toJson)
    def count(key: String) = summary.get(key).asLong
    assert(count("rows_in") == rows && count("rows_out") == rows)
    assert(count("null_text") == seeded(NullText))
    assert(count("empty_text") == seeded(Empty))
    assert(count("blank_text") == seeded(Blank))
    assert(count("control_chars") == seeded(Control))
    assert(count("invalid_utf8") == seeded(Replacement))
    assert(count("truncated") == seeded(Long) + seeded(Huge))
    assert(count("failed") == 0)
    assert(count("embedded") == rows - seeded(NullText))

    val out = spark.read.parquet(output.toString)
      .select(col("id"), col("embedding").isNull.as("missing"), size(col("embedding")).as("dims"),
        col("num_tokens"), col("truncated"))
      .collect()
    val ids = out.map(_.getLong(0))
    assert(ids.sorted.toSeq == (0L until rows), "ids as a multiset: none lost, none twice")
    out.foreach { r =>
      val id = r.getLong(0)
      kind(id) match {
        case NullText => assert(r.getBoolean(1) && r.isNullAt(3) && r.isNullAt(4), s"row $id")
        case k =>
          assert(!r.getBoolean(1) && r.getInt(2) == 384, s"row $id ($k) has no embedding")
          k match {
            case Empty | Blank => assert(r.getInt(3) == 2, s"row $id ($k) is [CLS] [SEP]")
            case Long | Huge => assert(r.getBoolean(4) && r.getInt(3) == maxSeqLength, s"row $id ($k)")
            case _ => assert(!r.getBoolean(4) && r.getInt(3) < maxSeqLength, s"row $id ($k)")
          }
      }
    }
  }

  test("Spark replaces a lone surrogate with '?' when the text enters a DataFrame, so it reaches the model as '?'") {
    val dir = scratch.dir("surrogates")
    val f = Files.writeString(dir.resolve("in.jsonl"), "{\"id\":1,\"text\":\"high \\ud800 low \\udc00\"}\n")
    val text = spark.read.json(f.toString).select("text").first().getString(0)
    assert(text == "high ? low ?")
  }

  test("bytes that are not UTF-8, and U+FFFD, are counted as invalid_utf8") {
    val dir = scratch.dir("not-utf8")
    val f = dir.resolve("in.txt")
    Files.write(f, "fine\n".getBytes(UTF_8) ++ Array[Byte](0x62, 0xff.toByte, 0x61, 0x64, '\n') ++
      "decoded upstream: \ufffd\nalso fine\n".getBytes(UTF_8))
    val table = InputTable.read(spark, f.toString, InputFormat.TEXT, "text")
    assert(TextKindCounts.of(table, "text") == new TextKindCounts(4, 0, 0, 0, 0, 2, 0))
    assert(table.collect().map(_.getString(0)).toSeq ==
      Seq("fine", "b\ufffdad", "decoded upstream: \ufffd", "also fine"), "the stage reads U+FFFD for the bad byte")
  }

  test("a non-string text column is one line on the driver: exit code 2, no job, no output") {
    val dir = scratch.dir("not-a-string")
    spark.range(5).selectExpr("id", "id * 2 as text").write.parquet(dir.resolve("in").toString)
    val (code, out, err) = Console.capture(Main.run("embed", "--input", dir.resolve("in").toString, "--output",
      dir.resolve("out").toString, "--model", TestModels.miniLm.dir.toString, "--master", "local[2]"))
    assert(code == 2, out)
    assert(err.linesIterator.filter(_.startsWith("peft-embed:")).toSeq ==
      Seq("peft-embed: error: input column \"text\" must be a string, but it is bigint"))
    assert(!Files.exists(dir.resolve("out")))
  }
}

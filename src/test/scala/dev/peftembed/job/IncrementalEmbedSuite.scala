package dev.peftembed.job

import com.fasterxml.jackson.databind.ObjectMapper
import dev.peftembed.spark.PeftEmbedder
import dev.peftembed.testkit.{Console, LocalSparkSession, ModelVariants, ScratchSpace, TestModels, VectorMath}
import java.nio.ByteBuffer
import java.nio.channels.FileChannel
import java.nio.file.{Files, Path, StandardCopyOption, StandardOpenOption}
import org.apache.spark.sql.SaveMode
import org.scalatest.funsuite.AnyFunSuite
import scala.jdk.CollectionConverters._
import scala.util.Using

/**
 * `embed --incremental` on local[2] with the real model: the first run embeds everything, a second run on the same
 * input embeds nothing and leaves the output as it was, and a run on a changed input embeds only the new and changed
 * rows, deletes the vanished ones, and ends with the vectors of a full run on that input.
 */
class IncrementalEmbedSuite extends AnyFunSuite with LocalSparkSession with ScratchSpace {
  private val json = new ObjectMapper()
  private val model = TestModels.miniLm
  private val topics = Seq("cats", "rain", "code", "trains", "bread")

  private def text(i: Int, version: Int = 0): String =
    s"note $i about ${topics(i % topics.size)}" + (if (version == 0) "" else s", revised $version times")

  /** Version 1: ids 0..199. */
  private val v1: Seq[(Long, String)] = (0 until 200).map(i => (i.toLong, text(i)))
  /** Version 2: ids 0..19 gone, texts of 20..39 changed and of 40 now null, ids 200..229 new; 159 unchanged. */
  private val v2: Seq[(Long, String)] = (20 until 40).map(i => (i.toLong, text(i, 1))) ++ Seq((40L, null)) ++
    v1.drop(41) ++ (200 until 230).map(i => (i.toLong, text(i)))

  private def stage(maxSeqLength: Int = 32, modelDir: Path = model.dir): PeftEmbedder =
    new PeftEmbedder().setModelPath(modelDir.toString).setMaxSeqLength(maxSeqLength)

  private def input(dir: Path, name: String, rows: Seq[(Long, String)]): Path = {
    val f = dir.resolve(name)
    Files.write(f, rows.map { case (id, t) => json.writeValueAsString(Map("id" -> id, "text" -> t).asJava) }.asJava)
    f
  }

  private def incremental(in: Path, out: Path, format: OutputFormat, mode: SaveMode = SaveMode.ErrorIfExists,
      keepDeleted: Boolean = false, maxSeqLength: Int = 32, modelDir: Path = model.dir): JobSummary = {
    val summary = EmbedJob.run(spark, new EmbedJob.Request(in.toString, null, "text", "id", out.toString, format, mode,
      stage(maxSeqLength, modelDir), 3600, true, keepDeleted))
    assert(spark.sparkContext.getLocalProperty("spark.jobGroup.id") == null, "a job group was left set")
    summary
  }

  /** Embeddings by id; a null text's is null. */
  private def vectors(out: Path, format: OutputFormat): Map[Long, Array[Float]] = {
    val df = format match {
      case OutputFormat.PARQUET => spark.read.parquet(out.toString)
      case OutputFormat.JSONL => spark.read.json(out.toString)
      case OutputFormat.DELTA => spark.read.format("delta").load(out.toString)
    }
    df.select("id", "embedding").collect().map { r =>
      r.getAs[Number](0).longValue ->
        Option(r.getSeq[Any](1)).map(_.map(x => x.asInstanceOf[Number].floatValue).toArray).orNull
    }.toMap
  }

  /** Every file under the output with its size and modification time: a rewrite changes at least one. */
  private def files(out: Path): Set[(String, Long, Long)] =
    Files.walk(out).iterator().asScala.filter(Files.isRegularFile(_))
      .map(f => (out.relativize(f).toString, Files.size(f), Files.getLastModifiedTime(f).toMillis)).toSet

  private def changes(s: JobSummary) = {
    val c = s.changes
    (c.rowsNew, c.rowsChanged, c.rowsUnchanged, c.rowsDeleted)
  }

  /** Jobs of the embedding group so far, once a marker job shows the listener bus has caught up. */
  private def embeddingJobs(marker: String): Int = {
    spark.sparkContext.setJobGroup(s"incremental-marker-$marker", "marker", false)
    spark.range(1).count()
    spark.sparkContext.clearJobGroup()
    val tracker = spark.sparkContext.statusTracker
    val deadline = System.currentTimeMillis() + 10000
    while (tracker.getJobIdsForGroup(s"incremental-marker-$marker").isEmpty && System.currentTimeMillis() < deadline) {
      Thread.sleep(20)
    }
    tracker.getJobIdsForGroup(JobGroup.EMBED.id()).length
  }

  private lazy val fullRunOfV2: Map[Long, Array[Float]] = {
    val dir = scratch.dir("incremental-full")
    val out = dir.resolve("full")
    EmbedJob.run(spark, new EmbedJob.Request(input(dir, "v2.jsonl", v2).toString, null, "text", "id", out.toString,
      OutputFormat.PARQUET, SaveMode.ErrorIfExists, stage(), 3600))
    vectors(out, OutputFormat.PARQUET)
  }

  private def assertSameAsFullRun(out: Path, format: OutputFormat): Unit = {
    val got = vectors(out, format)
    assert(got.keySet == v2.map(_._1).toSet)
    assert(got(40L) == null && fullRunOfV2(40L) == null, "a text changed to null must lose its embedding")
    val worst = got.removed(40L).map { case (id, v) => VectorMath.maxAbsDiff(v, fullRunOfV2(id)) }.max
    assert(worst <= 1e-6, s"worst |Δ| against a full run: $worst")
    info(f"$format: worst |Δ| against a full run on the new input: $worst%.1e")
  }

  /** Runs 1 (fresh), 2 (no change) and 3 (changed input) on one format; returns the output after run 2's check. */
  private def threeRuns(format: OutputFormat, checkUnchanged: (Path, () => Unit) => Unit,
      checkChanged: (Path, () => Unit) => Unit = (_, run) => run()): Path = {
    val dir = scratch.dir(s"incremental-$format")
    val in1 = input(dir, "v1.jsonl", v1)
    val out = dir.resolve("out")

    val first = incremental(in1, out, format)
    assert(changes(first) == (200, 0, 0, 0) && first.rowsIn == 200 && first.rowsOut == 200 && first.embedded == 200)
    val afterFirst = vectors(out, format)

    checkUnchanged(out, () => {
      val jobsBefore = embeddingJobs(s"$format-before")
      val second = incremental(in1, out, format)
      assert(changes(second) == (0, 0, 200, 0) && second.rowsOut == 200 && second.embedded == 0, second.toJson)
      assert(second.rowsProcessed == 0 && second.rowsPerSecond == 0, "carried-over rows cost no model time")
      assert(embeddingJobs(s"$format-after") == jobsBefore, "the unchanged run ran an embedding job")
    })
    val afterSecond = vectors(out, format)
    assert(afterSecond.keySet == afterFirst.keySet)
    afterFirst.foreach { case (id, v) => assert(afterSecond(id).sameElements(v), s"id $id changed") }

    val in2 = input(dir, "v2.jsonl", v2)
    checkChanged(out, () => {
      val third = incremental(in2, out, format)
      assert(changes(third) == (30, 21, 159, 20), third.toJson)
      assert(third.rowsIn == 210 && third.rowsOut == 210 && third.embedded == 50 && third.nullText == 1, third.toJson)
      assert(third.rowsProcessed == 51 && third.rowsPerSecond == 51 / third.seconds, "new and changed rows only")
    })
    val afterThird = vectors(out, format)
    (41 until 200).foreach(i => assert(afterThird(i.toLong).sameElements(afterFirst(i.toLong)), s"id $i re-embedded"))
    assertSameAsFullRun(out, format)
    out
  }

  for (format <- Seq(OutputFormat.PARQUET, OutputFormat.JSONL)) {
    test(s"$format: first run embeds all, an unchanged rerun rewrites nothing, a changed input updates by id") {
      val out = threeRuns(format, (out, second) => {
        val before = files(out)
        second()
        assert(files(out) == before, "the unchanged run touched the output's files")
      })
      val parent = out.getParent
      assert(Files.list(parent).iterator().asScala.map(_.getFileName.toString).toSet == Set("v1.jsonl", "v2.jsonl",
        "out"), "staged or previous versions were left behind")
      val columns = if (format == OutputFormat.PARQUET) spark.read.parquet(out.toString).columns.toSeq
        else spark.read.json(out.toString).columns.toSeq
      assert(columns.toSet == Set("id", "embedding", "num_tokens", "truncated", "text_sha256", "embedder"))
    }
  }

  test("DELTA: the same three runs; the unchanged rerun makes no commit and no file, the changed one one MERGE") {
    threeRuns(OutputFormat.DELTA, (out, second) => {
      val version = DeltaLake.version(spark, out.toString)
      val before = files(out)
      second()
      assert(DeltaLake.version(spark, out.toString) == version, "the unchanged run committed")
      assert(files(out) == before, "the unchanged run wrote files")
    }, (out, third) => {
      val version = DeltaLake.version(spark, out.toString)
      third()
      assert(DeltaLake.version(spark, out.toString) == version + 1, "the changed run is one MERGE commit")
      val operation = spark.sql(s"DESCRIBE HISTORY delta.`$out` LIMIT 1").select("operation").first().getString(0)
      assert(operation == "MERGE")
    })
  }

  test("DELTA without --incremental: mode error refuses, overwrite replaces, append adds") {
    val dir = scratch.dir("delta-modes")
    val in = input(dir, "in.jsonl", v1.take(10))
    val out = dir.resolve("table")
    def run(mode: SaveMode) = EmbedJob.run(spark, new EmbedJob.Request(in.toString, null, "text", "id",
      out.toString, OutputFormat.DELTA, mode, stage(), 3600))
    assert(run(SaveMode.ErrorIfExists).rowsOut == 10)
    assert(intercept[IllegalArgumentException](run(SaveMode.ErrorIfExists)).getMessage.contains("already exists"))
    assert(run(SaveMode.Overwrite).rowsOut == 10)
    val appended = run(SaveMode.Append)
    assert(appended.rowsOut == 10 && appended.embedded == 10)
    assert(spark.read.format("delta").load(out.toString).count() == 20 && DeltaLake.version(spark, out.toString) == 2)
  }

  test("--keep-deleted keeps vanished ids; an unchanged input then writes nothing") {
    val dir = scratch.dir("incremental-keep")
    val out = dir.resolve("out")
    incremental(input(dir, "v1.jsonl", v1.take(50)), out, OutputFormat.PARQUET)
    val before = files(out)
    val s = incremental(input(dir, "fewer.jsonl", v1.take(30)), out, OutputFormat.PARQUET, keepDeleted = true)
    assert(changes(s) == (0, 0, 30, 0) && s.rowsOut == 50, s.toJson)
    assert(files(out) == before)
    val mirrored = incremental(input(dir, "fewer2.jsonl", v1.take(30)), out, OutputFormat.PARQUET)
    assert(changes(mirrored) == (0, 0, 30, 20) && mirrored.rowsOut == 30, mirrored.toJson)
    assert(spark.read.parquet(out.toString).count() == 30)
  }

  test("refused on the driver: another model setting, a full output, duplicate ids, append; the output is kept") {
    val dir = scratch.dir("incremental-refuse")
    val in = input(dir, "in.jsonl", v1.take(20))
    val out = dir.resolve("out")
    incremental(in, out, OutputFormat.PARQUET)
    val before = files(out)

    val other = intercept[IllegalArgumentException](incremental(in, out, OutputFormat.PARQUET, maxSeqLength = 16))
    assert(other.getMessage.startsWith(s"$out: written with another model or options (embedder sha256:"))
    assert(other.getMessage.contains("maxSeqLength=16") && other.getMessage.contains("--mode overwrite"))
    val rebuilt = incremental(in, out, OutputFormat.PARQUET, mode = SaveMode.Overwrite, maxSeqLength = 16)
    assert(changes(rebuilt) == (20, 0, 0, 0) && rebuilt.embedded == 20)
    assert(changes(incremental(in, out, OutputFormat.PARQUET, maxSeqLength = 16)) == (0, 0, 20, 0))

    val full = dir.resolve("full")
    EmbedJob.run(spark, new EmbedJob.Request(in.toString, null, "text", "id", full.toString, OutputFormat.PARQUET,
      SaveMode.ErrorIfExists, stage(), 3600))
    assert(intercept[IllegalArgumentException](incremental(in, full, OutputFormat.PARQUET)).getMessage ==
      s"$full: not written by --incremental (no text_sha256 and embedder columns); rebuild it once with " +
        "--incremental --mode overwrite")

    val dup = input(dir, "dup.jsonl", v1.take(20) :+ (3L, "a second row with id 3"))
    assert(intercept[IllegalArgumentException](incremental(dup, out, OutputFormat.PARQUET)).getMessage ==
      s"$dup: \"id\" is not unique (21 rows, 20 distinct ids); --incremental needs unique ids")
    assert(intercept[IllegalArgumentException](incremental(in, out, OutputFormat.PARQUET, mode = SaveMode.Append))
      .getMessage.startsWith("--incremental updates the output in place"))
    val stillThere = spark.read.parquet(out.toString)
    assert(stillThere.count() == 20)
  }

  test("the fingerprint is the content: a copy elsewhere is the same model; one weight byte or adapter row is not") {
    val dir = scratch.dir("incremental-content")
    val in = input(dir, "in.jsonl", v1.take(20))
    val out = dir.resolve("out")
    incremental(in, out, OutputFormat.PARQUET)
    val hadoop = spark.sparkContext.hadoopConfiguration
    val start = System.nanoTime()
    val original = EmbedderFingerprint.of(stage(), hadoop)
    info(f"fingerprint of the 90 MB model, weights hashed in full: ${(System.nanoTime() - start) / 1e6}%.0f ms")

    val copy = ModelVariants.copyTree(model.dir, dir.resolve("elsewhere").resolve(model.dir.getFileName.toString))
    assert(EmbedderFingerprint.of(stage(modelDir = copy), hadoop) == original)
    val fromCopy = incremental(in, out, OutputFormat.PARQUET, modelDir = copy)
    assert(changes(fromCopy) == (0, 0, 20, 0) && fromCopy.embedded == 0, fromCopy.toJson)

    // The last byte of the weights, flipped in place: same path, same size, same header.
    Using.resource(FileChannel.open(copy.resolve("model.safetensors"), StandardOpenOption.READ,
      StandardOpenOption.WRITE)) { ch =>
      val last = ByteBuffer.allocate(1)
      ch.read(last, ch.size() - 1)
      last.put(0, (last.get(0) ^ 1).toByte)
      ch.write(last.rewind(), ch.size() - 1)
    }
    val swapped = intercept[IllegalArgumentException](incremental(in, out, OutputFormat.PARQUET, modelDir = copy))
    assert(swapped.getMessage.startsWith(s"$out: written with another model or options"), swapped.getMessage)

    // Two adapters alike in config, unlike in their tables: the table is swapped in place.
    val (first, _) = TestModels.promptAdapter(model, 4, 1L)
    val (second, _) = TestModels.promptAdapter(model, 4, 2L)
    val adapter = ModelVariants.copyTree(first, dir.resolve("adapter"))
    def withAdapter(path: Path) = EmbedderFingerprint.of(stage().setAdapterPath(path.toString), hadoop)
    val before = withAdapter(adapter)
    assert(before != original && withAdapter(first) == before)
    Files.copy(second.resolve("adapter_model.safetensors"), adapter.resolve("adapter_model.safetensors"),
      StandardCopyOption.REPLACE_EXISTING)
    assert(withAdapter(adapter) != before && withAdapter(adapter) == withAdapter(second))
  }

  test("the embed command: --incremental --output-format delta prints the change counts") {
    val dir = scratch.dir("incremental-cli")
    val in = input(dir, "in.jsonl", v1.take(12))
    val out = dir.resolve("table")
    def runCli(): com.fasterxml.jackson.databind.JsonNode = {
      val (code, stdout, err) = Console.run("embed", "--input", in.toString, "--output", out.toString,
        "--output-format", "delta", "--incremental", "--model", model.dir.toString, "--max-seq-length", "32")
      assert(code == 0, err)
      json.readTree(stdout.trim.linesIterator.toSeq.last)
    }
    val first = runCli()
    assert(first.get("rows_new").asLong == 12 && first.get("rows_out").asLong == 12)
    val second = runCli()
    Seq("rows_new" -> 0, "rows_changed" -> 0, "rows_unchanged" -> 12, "rows_deleted" -> 0, "embedded" -> 0)
      .foreach { case (k, v) => assert(second.get(k).asLong == v, k) }
    val (bad, _, err) = Console.run("embed", "--input", in.toString, "--output", dir.resolve("o").toString,
      "--keep-deleted")
    assert(bad == 2 && err.contains("--keep-deleted applies only with --incremental"))
  }
}

package dev.peftembed.job

import com.fasterxml.jackson.databind.ObjectMapper
import dev.peftembed.spark.PeftEmbedder
import dev.peftembed.testkit.{LocalSparkSession, ScratchSpace, TestModels}
import java.nio.charset.StandardCharsets.UTF_8
import java.nio.file.{Files, Path}
import java.util.concurrent.atomic.AtomicInteger
import org.apache.spark.scheduler.{SparkListener, SparkListenerJobStart, SparkListenerTaskEnd}
import org.apache.spark.sql.SaveMode
import org.scalatest.funsuite.AnyFunSuite
import scala.jdk.CollectionConverters._
import scala.util.Using

/**
 * A job that fails in the middle of its write leaves readers what was there before, in every mode. The fault is a
 * real one: an input file deleted once the write job has started (a compaction under a running job), so the task
 * that reads it fails after other tasks have committed their files, and local mode does not retry it.
 */
class FailedJobSuite extends AnyFunSuite with LocalSparkSession with ScratchSpace {
  private val json = new ObjectMapper()
  private val files = 8
  private val rowsPerFile = 150
  private val victimRows = 40

  /**
   * Eight JSON-lines files, each its own partition; the victim, the smallest, is the last partition (Spark orders
   * splits by size), so that it is read when earlier tasks are done.
   */
  private def writeInput(dir: Path, firstId: Int): (Path, Path) = {
    val in = Files.createDirectories(dir.resolve("in"))
    var id = firstId
    val paths = (0 until files).map { f =>
      val n = if (f == files - 1) victimRows else rowsPerFile
      val lines = (0 until n).map { _ =>
        id += 1
        json.writeValueAsString(Map[String, Any]("id" -> id, "text" -> s"sentence $id of file $f").asJava)
      }
      Files.write(in.resolve(f"part-$f%02d.jsonl"), lines.asJava, UTF_8)
    }
    (in, paths.last)
  }

  private def run(in: Path, out: Path, mode: SaveMode): JobSummary = EmbedJob.run(spark, new EmbedJob.Request(
    in.toString, InputFormat.JSONL, "text", "id", out.toString, OutputFormat.PARQUET, mode,
    new PeftEmbedder().setModelPath(TestModels.miniLm.dir.toString).setMaxSeqLength(16), 3600))

  /** Every file under a directory, with its size: what a reader could see. */
  private def snapshot(dir: Path): Map[String, Long] =
    if (!Files.exists(dir)) Map.empty
    else Using.resource(Files.walk(dir))(_.iterator.asScala.filter(Files.isRegularFile(_))
      .map(p => dir.relativize(p).toString -> Files.size(p)).toMap)

  private def ids(out: Path): Seq[Long] =
    spark.read.parquet(out.toString).select("id").collect().map(_.getLong(0)).toSeq.sorted

  /**
   * Deletes the victim when the write job starts; counts the write job's tasks that succeeded.
   *
   * @param description the write job's description, where the embed group runs other jobs before it
   */
  private final class DeleteOnWrite(victim: Path, description: Option[String] = None) extends SparkListener {
    val succeeded = new AtomicInteger()
    @volatile private var writeJob = -1

    private def isWrite(p: java.util.Properties): Boolean = p != null &&
      p.getProperty("spark.jobGroup.id") == JobGroup.EMBED.id() &&
      description.forall(_ == p.getProperty("spark.job.description"))

    override def onJobStart(e: SparkListenerJobStart): Unit =
      if (isWrite(e.properties) && writeJob < 0) {
        writeJob = e.jobId
        Files.delete(victim)
      }

    override def onTaskEnd(e: SparkListenerTaskEnd): Unit =
      if (writeJob >= 0 && e.reason == org.apache.spark.Success) succeeded.incrementAndGet()
  }

  /** Runs the job with the fault; returns the error and how many of its tasks succeeded before it failed. */
  private def failingRun(in: Path, victim: Path, out: Path, mode: SaveMode): (Throwable, Int) = {
    val saved = Files.readAllBytes(victim)
    val listener = new DeleteOnWrite(victim)
    spark.sparkContext.addSparkListener(listener)
    val error = try intercept[Exception](run(in, out, mode))
    finally {
      spark.sparkContext.removeSparkListener(listener)
      Files.write(victim, saved)
    }
    (error, listener.succeeded.get)
  }

  private def withSmallSplits[T](body: => T): T = {
    val key = "spark.sql.files.maxPartitionBytes"
    val before = spark.conf.getOption(key)
    // Below the 4 MB cost Spark charges for opening a file, so every input file becomes a partition of its own.
    spark.conf.set(key, "65536")
    try body finally before.fold(spark.conf.unset(key))(spark.conf.set(key, _))
  }

  private def check(mode: SaveMode, previous: Boolean): Unit = withSmallSplits {
    val dir = scratch.dir(s"failed-job-$mode")
    val (in, victim) = writeInput(dir, firstId = 0)
    val out = dir.resolve("out")
    val before = if (previous) {
      val (old, _) = writeInput(Files.createDirectories(dir.resolve("old")), firstId = 100000)
      run(old, out, SaveMode.ErrorIfExists)
      snapshot(out)
    } else Map.empty[String, Long]
    val oldIds = if (previous) ids(out) else Nil

    val start = System.nanoTime()
    val (error, succeeded) = failingRun(in, victim, out, mode)
    info(f"mode $mode: failed after $succeeded committed task(s) in ${(System.nanoTime() - start) / 1e9}%.1f s: " +
      error.getMessage.linesIterator.next().take(160))
    assert(succeeded > 0, "the fault must strike after some tasks committed their output")
    assert(Iterator.iterate(error)(_.getCause).takeWhile(_ != null)
      .exists(e => Option(e.getMessage).exists(_.contains(victim.getFileName.toString))),
      s"the error is not the injected fault: $error")
    assert(snapshot(out) == before, "a reader sees exactly what was there before the failed job")
    if (previous) assert(ids(out) == oldIds)
    assert(Using.resource(Files.list(dir))(_.iterator.asScala.map(_.getFileName.toString).toSet) ==
      Set("in", "old", "out").filter(n => Files.exists(dir.resolve(n))), "no staging directory is left behind")

    // The same command, rerun once the input is whole again, succeeds: a failed run blocks nothing.
    val s = run(in, out, mode)
    val expected = (1L to (files - 1) * rowsPerFile + victimRows).toSeq
    assert(s.rowsIn == expected.size && s.rowsOut == expected.size)
    assert(ids(out) == (if (mode == SaveMode.Append) (oldIds ++ expected).sorted else expected))
  }

  test("incremental: a failed rewrite leaves the previous output readable, with its old rows and vectors") {
    withSmallSplits {
      val dir = scratch.dir("failed-incremental")
      val (in, victim) = writeInput(dir, firstId = 0)
      val out = dir.resolve("out")
      def incremental(): JobSummary = EmbedJob.run(spark, new EmbedJob.Request(in.toString, InputFormat.JSONL,
        "text", "id", out.toString, OutputFormat.PARQUET, SaveMode.ErrorIfExists,
        new PeftEmbedder().setModelPath(TestModels.miniLm.dir.toString).setMaxSeqLength(16), 3600, true, false))
      def vectors(): Map[Long, Seq[Float]] = spark.read.parquet(out.toString).select("id", "embedding").collect()
        .map(r => r.getLong(0) -> r.getSeq[Float](1)).toMap
      incremental()
      val before = snapshot(out)
      val oldVectors = vectors()
      // The first file's texts change, so the run embeds them and rewrites the output.
      val first = in.resolve("part-00.jsonl")
      Files.write(first, Files.readAllLines(first, UTF_8).asScala.map(_.replace("sentence", "changed sentence"))
        .asJava, UTF_8)

      val saved = Files.readAllBytes(victim)
      val listener = new DeleteOnWrite(victim, Some(IncrementalEmbed.REWRITE))
      spark.sparkContext.addSparkListener(listener)
      val error = try intercept[Exception](incremental())
      finally {
        spark.sparkContext.removeSparkListener(listener)
        Files.write(victim, saved)
      }
      info(s"failed rewrite after ${listener.succeeded.get} task(s): " + error.getMessage.linesIterator.next().take(160))
      assert(Iterator.iterate(error: Throwable)(_.getCause).takeWhile(_ != null)
        .exists(e => Option(e.getMessage).exists(_.contains(victim.getFileName.toString))),
        s"the error is not the injected fault: $error")
      assert(snapshot(out) == before, "a reader sees exactly what was there before the failed rewrite")
      val after = vectors()
      assert(after.keySet == oldVectors.keySet && after.size == (files - 1) * rowsPerFile + victimRows)
      oldVectors.foreach { case (id, v) => assert(after(id) == v, s"id $id changed") }
      assert(Using.resource(Files.list(dir))(_.iterator.asScala.map(_.getFileName.toString).toSet) ==
        Set("in", "out"), "no staging directory is left behind")

      val rerun = incremental()
      val c = rerun.changes
      assert((c.rowsNew, c.rowsChanged, c.rowsUnchanged, c.rowsDeleted) ==
        (0, rowsPerFile, (files - 2) * rowsPerFile + victimRows, 0), rerun.toJson)
    }
  }

  test("mode error: a failed job leaves no output directory, and the rerun is not refused") {
    check(SaveMode.ErrorIfExists, previous = false)
  }

  test("mode overwrite: a failed job leaves the previous output intact (Spark alone would have deleted it first)") {
    check(SaveMode.Overwrite, previous = true)
  }

  test("mode append: a failed job adds no file to the previous output") {
    check(SaveMode.Append, previous = true)
  }
}

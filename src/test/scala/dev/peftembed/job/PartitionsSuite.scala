package dev.peftembed.job

import dev.peftembed.cli.Main
import dev.peftembed.embed.{EncoderOptions, SentenceEncoder}
import dev.peftembed.spark.PeftEmbedder
import dev.peftembed.testkit.{Console, LocalSparkSession, TestModels, VectorMath}
import java.nio.file.{Files, Path}
import java.util.concurrent.ConcurrentLinkedQueue
import org.apache.spark.scheduler.{SparkListener, SparkListenerStageSubmitted}
import org.apache.spark.sql.SaveMode
import org.scalatest.funsuite.AnyFunSuite
import scala.jdk.CollectionConverters._
import scala.util.Using

/**
 * `--partitions` on local[2]: the auto rule, a single-file input spread over several tasks with its generated ids
 * still the row positions, a fixed number, and the option on the command line. Scratch stays under
 * target/partitions-suite.
 */
class PartitionsSuite extends AnyFunSuite with LocalSparkSession {
  private val model = TestModels.miniLm
  private val texts: Seq[String] = (0 until 120).map(i => s"line $i is about ${Seq("cats", "rain", "code")(i % 3)}")
  private val work = Files.createDirectories(Path.of("target", "partitions-suite").toAbsolutePath)

  private def deleteTree(dir: Path): Unit = if (Files.exists(dir)) {
    Using.resource(Files.walk(dir))(_.sorted(java.util.Comparator.reverseOrder()).forEach(p => Files.delete(p)))
  }

  /** The task counts of the stages of the embed job's group, as submitted. */
  private final class EmbedStages extends SparkListener {
    val tasks = new ConcurrentLinkedQueue[Integer]()
    @volatile var markerSeen = false

    override def onStageSubmitted(event: SparkListenerStageSubmitted): Unit = {
      val group = Option(event.properties).flatMap(p => Option(p.getProperty("spark.jobGroup.id"))).getOrElse("")
      if (group == JobGroup.EMBED.id()) tasks.add(event.stageInfo.numTasks)
      if (group == "partitions-suite-marker") markerSeen = true
    }
  }

  /** Runs `job` and returns the task counts of the embed job's stages, once the listener bus has caught up. */
  private def embedStageTasks(job: => Unit): Seq[Int] = {
    val listener = new EmbedStages
    val sc = spark.sparkContext
    sc.addSparkListener(listener)
    try {
      job
      sc.setJobGroup("partitions-suite-marker", "marker", false)
      try spark.range(1).count() finally sc.clearJobGroup()
      val deadline = System.currentTimeMillis() + 10000
      while (!listener.markerSeen && System.currentTimeMillis() < deadline) Thread.sleep(20)
      assert(listener.markerSeen, "the listener never saw the marker job")
      listener.tasks.asScala.map(_.intValue).toSeq
    } finally sc.removeSparkListener(listener)
  }

  private def textFile(name: String): Path = {
    val dir = work.resolve(name)
    deleteTree(dir)
    Files.write(Files.createDirectories(dir).resolve("texts.txt"), texts.asJava)
  }

  private def embed(input: Path, output: Path, partitions: Partitions): JobSummary =
    EmbedJob.run(spark, new EmbedJob.Request(input.toString, InputFormat.TEXT, "text", "id", output.toString,
      OutputFormat.PARQUET, SaveMode.ErrorIfExists, new PeftEmbedder().setModelPath(model.dir.toString)
        .setMaxSeqLength(32), 3600, false, false, partitions))

  test("the auto rule: three waves per task slot, at most 5000 rows a partition, never more than the rows") {
    assert(Partitions.auto(20000, 4) == 12)
    assert(Partitions.auto(1000000, 4) == 200)
    assert(Partitions.auto(1000000, 400) == 1200)
    assert(Partitions.auto(10, 4) == 10)
    assert(Partitions.auto(0, 4) == 1)
    // Splits that already meet both bounds are kept; too few, or too full, are replaced.
    assert(Partitions.AUTO.choose(20000, 16, 4) == 16)
    assert(Partitions.AUTO.choose(20000, 1, 4) == 12)
    assert(Partitions.AUTO.choose(100000, 12, 4) == 20)
    assert(Partitions.of(7).choose(20000, 1, 4) == 7)
    assert(Partitions.slots(spark.sparkContext) == 2, "local[2] has two task slots")
  }

  test("a single-file input is spread over several tasks, and its generated ids stay the row positions") {
    val input = textFile("auto")
    val output = input.resolveSibling("out")
    var summary: JobSummary = null
    val tasks = embedStageTasks { summary = embed(input, output, Partitions.AUTO) }
    assert(summary.rowsOut == texts.size && summary.embedded == texts.size)
    assert(tasks.min == 1, s"the input is one split, read by one task: $tasks")
    assert(tasks.max == Partitions.WAVES * 2, s"three tasks per slot of local[2] embed it: $tasks")

    val expected = Using.resource(SentenceEncoder.load(model.dir, null, EncoderOptions.defaults().withMaxSeqLength(32))) {
      e => e.encode(texts.asJava).asScala.map(_.vector).toIndexedSeq
    }
    val written = spark.read.parquet(output.toString).select("id", "embedding").collect()
    assert(written.map(_.getLong(0)).sorted.toSeq == texts.indices.map(_.toLong))
    for (row <- written) {
      val v = row.getSeq[Float](1).toArray
      assert(VectorMath.maxAbsDiff(v, expected(row.getLong(0).toInt)) <= 1e-5, s"id ${row.getLong(0)}: another text")
    }
  }

  test("progress counts the rows the embedding stage reads from the spread, not the input stage's before it") {
    val input = textFile("progress")
    val group = "partitions-suite-progress"
    // Half the input's rows reach the encoder: a count of the read stage's records would say 120.
    val half = spark.read.text(input.toString).withColumnRenamed("value", "text").where("text like '%about c%'")
    val sc = spark.sparkContext
    val progress = new ProgressReporter(sc, group, 1000, 3600)
    val (done, executors) = try {
      sc.setJobGroup(group, "embed", false)
      try new PeftEmbedder().setModelPath(model.dir.toString).setMaxSeqLength(32).transform(half.repartition(3))
        .select("embedding").collect()
      finally sc.clearJobGroup()
      // Listener events arrive after the job returns; the read stage's 120 would show before the embedding's 80.
      val deadline = System.currentTimeMillis() + 10000
      while (progress.rowsDone() < 80 && System.currentTimeMillis() < deadline) Thread.sleep(20)
      (progress.rowsDone(), progress.executors())
    } finally progress.close()
    assert(done == 80, "the rows with 'about c' (cats, code) that went into the encoder")
    assert(executors == 1, "local mode has one executor, the driver")
  }

  test("a fixed number of partitions is used as given") {
    val input = textFile("fixed")
    val tasks = embedStageTasks(embed(input, input.resolveSibling("out"), Partitions.of(5)))
    assert(tasks.max == 5, s"$tasks")
  }

  test("--partitions on the command line: a number, and a bad value refused with one line before Spark starts") {
    val input = textFile("cli")
    val tasks = embedStageTasks {
      val (code, _, err) = Console.capture(Main.run("embed", "--input", input.toString, "--model", model.dir.toString,
        "--max-seq-length", "32", "--output", input.resolveSibling("out").toString, "--partitions", "4"))
      assert(code == 0, err)
    }
    assert(tasks.max == 4, s"$tasks")
    val (code, _, err) = Console.capture(Main.run("similar", "--left", input.toString, "--k", "3", "--output",
      input.resolveSibling("similar").toString, "--partitions", "0"))
    assert(code == 2)
    assert(err.linesIterator.filter(_.startsWith("peft-embed:")).toSeq ==
      Seq("peft-embed: error: --partitions must be auto or a positive number, got \"0\""), err)
  }
}

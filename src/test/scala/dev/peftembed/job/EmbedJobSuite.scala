package dev.peftembed.job

import com.fasterxml.jackson.databind.ObjectMapper
import dev.peftembed.cli.Main
import dev.peftembed.embed.{EncoderOptions, SentenceEncoder}
import dev.peftembed.spark.PeftEmbedder
import dev.peftembed.testkit.{Console, LocalSparkSession, ScratchSpace, TestModels, VectorMath}
import java.nio.file.{Files, Path}
import org.apache.spark.sql.SaveMode
import org.apache.spark.sql.types.{ArrayType, BooleanType, FloatType, IntegerType}
import org.scalatest.funsuite.AnyFunSuite
import scala.jdk.CollectionConverters._
import scala.util.Using

/** The embed job on local[2]: every input and output format, the modes, nulls, and the command line. */
class EmbedJobSuite extends AnyFunSuite with LocalSparkSession with ScratchSpace {
  private val json = new ObjectMapper()
  private val model = TestModels.miniLm
  private val texts: Seq[String] = (0 until 60).map(i => s"sentence number $i about ${Seq("cats", "rain", "code")(i % 3)}")

  private def tmp(): Path = scratch.dir("embed-job")

  private def jsonl(dir: Path, name: String, rows: Seq[(Any, String)]): Path = {
    val f = dir.resolve(name)
    Files.write(f, rows.map { case (id, t) =>
      json.writeValueAsString(Map("id" -> id, "text" -> t).asJava)
    }.asJava)
    f
  }

  private def stage(): PeftEmbedder = new PeftEmbedder().setModelPath(model.dir.toString).setMaxSeqLength(32)

  private def run(input: Path, output: Path, inFormat: InputFormat = null, outFormat: OutputFormat =
      OutputFormat.PARQUET, mode: SaveMode = SaveMode.ErrorIfExists, idCol: String = "id"): JobSummary = {
    val summary = EmbedJob.run(spark, new EmbedJob.Request(input.toString, inFormat, "text", idCol, output.toString,
      outFormat, mode, stage(), 3600))
    // The caller's thread gets its job group back clear: a host application's next jobs are not tagged as ours.
    assert(spark.sparkContext.getLocalProperty("spark.jobGroup.id") == null)
    summary
  }

  private def readBack(out: Path, format: OutputFormat) = {
    val df = if (format == OutputFormat.PARQUET) spark.read.parquet(out.toString) else spark.read.json(out.toString)
    df.collect().map(r => r.getAs[Any]("id").toString -> r).toMap
  }

  private lazy val expected: Map[String, Array[Float]] =
    Using.resource(SentenceEncoder.load(model.dir, null, EncoderOptions.defaults().withMaxSeqLength(32))) { e =>
      texts.zip(e.encode(texts.asJava).asScala).map { case (t, v) => t -> v.vector }.toMap
    }

  test("JSON lines in, Parquet out: schema, every row once, vectors equal the encoder's") {
    val dir = tmp()
    val in = jsonl(dir, "in.jsonl", texts.zipWithIndex.map { case (t, i) => (i, t) })
    val out = dir.resolve("out")
    val s = run(in, out)
    assert(s.rowsIn == 60 && s.rowsOut == 60 && s.embedded == 60 && s.nullText == 0 && s.modelLoads <= 1)
    val df = spark.read.parquet(out.toString)
    assert(df.columns.toSeq == Seq("id", "embedding", "num_tokens", "truncated"))
    assert(df.schema("embedding").dataType == ArrayType(FloatType, false) ||
      df.schema("embedding").dataType == ArrayType(FloatType, true))
    assert(df.schema("num_tokens").dataType == IntegerType && df.schema("truncated").dataType == BooleanType)
    val rows = readBack(out, OutputFormat.PARQUET)
    assert(rows.keySet == texts.indices.map(_.toString).toSet)
    texts.zipWithIndex.foreach { case (t, i) =>
      val v = rows(i.toString).getAs[scala.collection.Seq[Float]]("embedding").toArray
      assert(VectorMath.maxAbsDiff(v, expected(t)) <= 1e-5)
    }
  }

  test("Parquet, CSV and text inputs, by extension and by content; text gets stable generated ids") {
    val dir = tmp()
    val src = spark.createDataFrame(texts.zipWithIndex.map { case (t, i) => (i.toLong, t) }).toDF("id", "text")
    src.write.parquet(dir.resolve("pq").toString)
    src.coalesce(1).write.option("header", "true").csv(dir.resolve("csv").toString)
    val csvFile = Files.list(dir.resolve("csv")).iterator().asScala.find(_.toString.endsWith(".csv")).get
    val txt = Files.write(dir.resolve("texts.txt"), texts.asJava)
    val noExtension = Files.write(dir.resolve("texts-without-extension"), texts.asJava)
    assert(InputFormat.detect(dir.resolve("pq").toString, spark.sparkContext.hadoopConfiguration) == InputFormat.PARQUET)
    assert(InputFormat.detect(csvFile.toString, spark.sparkContext.hadoopConfiguration) == InputFormat.CSV)
    assert(InputFormat.detect(noExtension.toString, spark.sparkContext.hadoopConfiguration) == InputFormat.TEXT)

    for ((input, format) <- Seq(dir.resolve("pq") -> null, csvFile -> null, txt -> null,
        noExtension -> InputFormat.TEXT)) {
      val out = Files.createTempDirectory(dir, "out").resolve("o")
      val s = run(input, out, format)
      assert(s.rowsIn == 60 && s.rowsOut == 60 && s.embedded == 60, s"$input: $s")
    }
    run(txt, dir.resolve("t1"))
    run(txt, dir.resolve("t2"))
    val first = spark.read.parquet(dir.resolve("t1").toString)
    val second = spark.read.parquet(dir.resolve("t2").toString)
    def idsByText(df: org.apache.spark.sql.DataFrame) = df.select("id", "embedding").collect()
      .map(r => r.getLong(0) -> r.getSeq[Float](1).head).toMap
    assert(idsByText(first) == idsByText(second), "generated ids must be the same on a second run")
    assert(idsByText(first).keySet == (0L until 60L).toSet)
  }

  test("JSON lines out; null texts keep their row with a null embedding") {
    val dir = tmp()
    val in = jsonl(dir, "in.jsonl", Seq((1, "hello"), (2, null), (3, ""), (4, "   ")))
    val out = dir.resolve("out")
    val s = run(in, out, outFormat = OutputFormat.JSONL)
    assert(s.rowsIn == 4 && s.rowsOut == 4 && s.embedded == 3 && s.nullText == 1)
    val rows = readBack(out, OutputFormat.JSONL)
    assert(rows("2").isNullAt(rows("2").fieldIndex("embedding")))
    assert(!rows("3").isNullAt(rows("3").fieldIndex("embedding")))
  }

  test("mode error refuses an existing output before any embedding; overwrite replaces; append adds") {
    val dir = tmp()
    val in = jsonl(dir, "in.jsonl", texts.take(10).zipWithIndex.map { case (t, i) => (i, t) })
    val out = dir.resolve("out")
    run(in, out)
    val jobsBefore = jobsOfJobGroups("before")
    val e = intercept[IllegalArgumentException](run(in, out))
    assert(e.getMessage == s"$out: output already exists (use --mode overwrite or append)")
    assert(jobsOfJobGroups("after") == jobsBefore, "a job ran before the existing output was refused")

    assert(run(in, out, mode = SaveMode.Overwrite).rowsOut == 10)
    assert(spark.read.parquet(out.toString).count() == 10)
    val appended = run(in, out, mode = SaveMode.Append)
    assert(appended.rowsOut == 10 && appended.embedded == 10)
    assert(spark.read.parquet(out.toString).count() == 20)
  }

  test("the embed command: summary JSON as the last stdout line, config file defaults, one-line errors") {
    val dir = tmp()
    val in = jsonl(dir, "in.jsonl", texts.take(12).zipWithIndex.map { case (t, i) => (i, t) })
    val conf = Files.writeString(dir.resolve("job.properties"),
      s"model = ${model.dir}\nmax-seq-length = 32\noutput-format = jsonl\n")
    val (code, out, _) = Console.capture(Main.run("embed", "--config", conf.toString, "--input", in.toString, "--output",
      dir.resolve("out").toString, "--master", "local[2]"))
    assert(code == 0)
    val summary = json.readTree(out.trim.linesIterator.toSeq.last)
    assert(summary.get("rows_in").asLong == 12 && summary.get("rows_out").asLong == 12)
    Seq("embedded", "null_text", "empty_text", "blank_text", "control_chars", "invalid_utf8", "truncated",
      "failed", "unknown_adapter", "model_loads", "executors", "seconds", "rows_per_second")
      .foreach(k => assert(summary.has(k), k))
    assert(Files.list(dir.resolve("out")).iterator().asScala.exists(_.getFileName.toString.endsWith(".json")))

    val (bad, _, err) = Console.capture(Main.run("embed", "--input", in.toString, "--output", dir.resolve("o2").toString,
      "--model", "/no/such/model"))
    assert(bad == 2)
    assert(err.linesIterator.filter(_.startsWith("peft-embed:")).toSeq ==
      Seq("peft-embed: error: /no/such/model: model directory not found (expected a sentence-transformers or " +
        "Hugging Face model directory with config.json, model.safetensors and tokenizer.json)"))
    assert(!Files.exists(dir.resolve("o2")))
  }

  test("with no arguments, the demo embeds the sample corpus, shows neighbours, and can run again") {
    for (_ <- 1 to 2) {
      val (code, out, _) = Console.capture(Main.run())
      assert(code == 0)
      val lines = out.trim.linesIterator.toSeq
      assert(lines.exists(_.startsWith("nearest neighbours")))
      val summary = json.readTree(lines.last)
      assert(summary.get("rows_in").asLong == 331 && summary.get("rows_out").asLong == 331)
    }
  }

  /** Jobs of the embed job's groups, once a marker job shows the listener bus has caught up. */
  private def jobsOfJobGroups(marker: String): Int = {
    val tracker = spark.sparkContext.statusTracker
    spark.sparkContext.setJobGroup(s"marker-$marker", "marker", false)
    spark.range(1).count()
    spark.sparkContext.clearJobGroup()
    val deadline = System.currentTimeMillis() + 10000
    while (tracker.getJobIdsForGroup(s"marker-$marker").isEmpty && System.currentTimeMillis() < deadline) {
      Thread.sleep(20)
    }
    Seq(JobGroup.COUNT.id(), JobGroup.EMBED.id()).map(g => tracker.getJobIdsForGroup(g).length).sum
  }

}

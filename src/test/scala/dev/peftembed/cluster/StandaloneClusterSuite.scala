package dev.peftembed.cluster

import com.fasterxml.jackson.databind.ObjectMapper
import dev.peftembed.testkit.LocalSpark
import java.nio.charset.StandardCharsets.UTF_8
import java.nio.file.{Files, Path}
import java.util.concurrent.TimeUnit
import org.apache.spark.sql.functions.{col, size}
import org.scalatest.{BeforeAndAfterAll, Tag}
import org.scalatest.funsuite.AnyFunSuite
import scala.jdk.CollectionConverters._
import scala.jdk.OptionConverters._
import scala.util.Using

/**
 * Tests that need the application jar and start processes of their own. The POM leaves them out of the test phase and
 * runs them in integration-test, after package has built the jar.
 */
object ClusterTest extends Tag("dev.peftembed.cluster.ClusterTest")

/**
 * The jobs as a cluster user runs them: `scripts/cluster up` starts a Master and two one-core Workers from the Maven
 * jars, and `scripts/peft-embed embed --master spark://...` (then `similar` on its output) submits the app jar to them
 * through SparkSubmit. Only `mvn verify` runs it (about three minutes); `mvn verify -Dsuites=dev.peftembed.cluster.StandaloneClusterSuite` runs it
 * with only its integration-test neighbour, NotebooksSuite. Scripts' output and the cluster's logs stay under
 * target/cluster-it.
 */
class StandaloneClusterSuite extends AnyFunSuite with BeforeAndAfterAll {
  private val rows = 20000
  private val k = 3
  private val root = Path.of(sys.props("user.dir"))
  private val work = root.resolve("target").resolve("cluster-it")
  private val json = new ObjectMapper()

  /** Runs a script of scripts/ with the test's cache home and its own cluster state dir; returns exit code and stdout. */
  private def script(name: String, timeoutSeconds: Long, args: String*): (Int, Seq[String]) = {
    val logs = Files.createDirectories(work.resolve("logs"))
    val label = (name +: args.take(1)).mkString("-")
    val stdout = logs.resolve(s"$label.out")
    val stderr = logs.resolve(s"$label.err")
    val builder = new ProcessBuilder((root.resolve("scripts").resolve(name).toString +: args).asJava)
      .directory(root.toFile).redirectOutput(stdout.toFile).redirectError(stderr.toFile)
    // The build's cache home (the POM's argLine), so libtorch and the default model are not unpacked again.
    sys.props.get("peftembed.home").foreach(builder.environment().put("PEFT_EMBED_HOME", _))
    builder.environment().put("PEFT_EMBED_CLUSTER_DIR", work.resolve("cluster").toString)
    val process = builder.start()
    if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
      process.destroyForcibly()
      fail(s"scripts/$name ${args.mkString(" ")} ran over ${timeoutSeconds}s; see $stderr")
    }
    val code = process.exitValue()
    if (code != 0) {
      info(s"scripts/$name exited with $code; the end of $stderr:")
      Files.readAllLines(stderr).asScala.takeRight(30).foreach(line => info(line))
    }
    (code, Files.readAllLines(stdout).asScala.toSeq)
  }

  /** Short texts, so that two one-core executors finish quickly: the start of each sample sentence, and the row. */
  private def writeInput(): Path = {
    val samples = Using.resource(getClass.getClassLoader.getResourceAsStream("samples/corpus.jsonl")) { in =>
      new String(in.readAllBytes(), UTF_8).linesIterator.map(l => json.readTree(l).get("text").asText).toVector
    }
    val dir = work.resolve("input")
    Files.createDirectories(dir)
    // One file, a single input split: the job itself must spread it over both executors.
    val lines = (0 until rows).map { i =>
      val text = samples(i % samples.size).split(' ').take(6).mkString(" ") + s" (row $i)"
      json.writeValueAsString(Map[String, Any]("id" -> i, "text" -> text).asJava)
    }
    Files.write(dir.resolve("corpus.jsonl"), lines.asJava, UTF_8)
  }

  private def deleteTree(dir: Path): Unit = if (Files.exists(dir)) {
    Using.resource(Files.walk(dir))(_.sorted(java.util.Comparator.reverseOrder()).forEach(p => Files.delete(p)))
  }

  /** The processes `up` recorded, and the executors their Workers launched. */
  private def clusterProcesses(): Seq[ProcessHandle] = {
    val state = work.resolve("cluster")
    val pidFiles = if (Files.isDirectory(state)) Using.resource(Files.list(state))(_.iterator.asScala.toSeq) else Nil
    val started = pidFiles.filter(_.getFileName.toString.endsWith(".pid"))
      .flatMap(f => ProcessHandle.of(Files.readString(f).trim.toLong).toScala)
    started ++ started.flatMap(_.descendants().iterator.asScala)
  }

  override protected def afterAll(): Unit = {
    try {
      val processes = clusterProcesses()
      val (code, _) = script("cluster", 120, "down")
      assert(code == 0, "scripts/cluster down failed")
      val left = processes.filter(_.isAlive).map(_.pid)
      assert(left.isEmpty, s"still running after scripts/cluster down: pids ${left.mkString(", ")}")
    } finally super.afterAll()
  }

  test(s"a $rows-row file on 2 workers: every row exactly once, the model loaded once per executor; then similar",
      ClusterTest) {
    deleteTree(work.resolve("input"))
    deleteTree(work.resolve("embeddings"))
    deleteTree(work.resolve("similar"))
    val input = writeInput()
    val output = work.resolve("embeddings")

    val upStart = System.nanoTime()
    val (upCode, upOut) = script("cluster", 180, "up", "--workers", "2", "--cores", "1")
    assert(upCode == 0, "scripts/cluster up failed")
    val master = upOut.last
    assert(master.matches("spark://127\\.0\\.0\\.1:\\d+"), s"the last line of `up` is not the master URL: $master")
    info(f"cluster up in ${(System.nanoTime() - upStart) / 1e9}%.1f s: $master")

    val (code, out) = script("peft-embed", 600, "embed", "--master", master, "--input", input.toString,
      "--input-format", "jsonl", "--output", output.toString, "--output-format", "parquet", "--max-seq-length", "32")
    assert(code == 0, "scripts/peft-embed embed failed")
    val summary = json.readTree(out.last)
    info(s"summary: ${out.last}")
    assert(summary.get("rows_in").asLong == rows)
    assert(summary.get("rows_out").asLong == rows)
    assert(summary.get("embedded").asLong == rows)
    assert(summary.get("null_text").asLong == 0)
    assert(summary.get("executors").asInt == 2)
    assert(summary.get("model_loads").asLong == 2)
    info(f"cluster run: ${summary.get("rows_per_second").asDouble}%.0f rows/s end to end " +
      f"(${summary.get("seconds").asDouble}%.1f s, 2 executors x 1 core)")

    val written = LocalSpark.session.read.parquet(output.toString)
    assert(written.where(size(col("embedding")) =!= 384).count() == 0, "every vector has 384 dimensions")
    val ids = written.select("id").collect().map(_.getLong(0))
    assert(ids.toSet == (0L until rows).toSet, "ids as a set")
    assert(ids.sorted.toSeq == (0L until rows), "ids as a multiset: none twice")

    // A cluster master sends similar through SparkSubmit too; run in a plain JVM it would be refused.
    val similar = work.resolve("similar")
    val (simCode, simOut) = script("peft-embed", 300, "similar", "--master", master, "--left", output.toString,
      "--k", k.toString, "--output", similar.toString)
    assert(simCode == 0, "scripts/peft-embed similar failed")
    info(s"similar summary: ${simOut.last}")
    val simSummary = json.readTree(simOut.last)
    assert(simSummary.get("left_rows").asLong == rows && simSummary.get("right_rows").asLong == rows)
    assert(simSummary.get("pairs").asLong == rows.toLong * k)
    val pairs = LocalSpark.session.read.parquet(similar.toString)
    assert(pairs.where(col("left_id") === col("right_id")).count() == 0, "a self-join never pairs a row with itself")
    assert(pairs.select("left_id").distinct().count() == rows, "every row has its neighbours")
  }
}

package dev.peftembed.cli

import ai.djl.util.Utils
import com.fasterxml.jackson.databind.ObjectMapper
import dev.peftembed.embed.{EncoderOptions, SentenceEncoder}
import dev.peftembed.runtime.{CacheHome, DjlRuntime}
import dev.peftembed.testkit.{ScratchSpace, TestModels}
import java.nio.file.{Files, Path}
import java.util.concurrent.TimeUnit
import org.scalatest.funsuite.AnyFunSuite
import scala.jdk.CollectionConverters._
import scala.util.Using

/**
 * No network at run time. DJL's offline mode is set by our code wherever natives load, and the encoder
 * runs in a network namespace with no interfaces but a downed loopback (`unshare --net`).
 */
class OfflineSuite extends AnyFunSuite with ScratchSpace {
  private val model = TestModels.miniLm
  private lazy val adapter: Path = TestModels.promptAdapter(model, 8, seed = 8)._1

  test("DJL offline mode is set by our code, not only by the JVM flags of the scripts and the build") {
    val saved = System.getProperty(DjlRuntime.OFFLINE_PROPERTY)
    System.clearProperty(DjlRuntime.OFFLINE_PROPERTY)
    try {
      assume(System.getenv(DjlRuntime.OFFLINE_ENV) == null, "DJL_OFFLINE is set in this environment")
      assert(!Utils.isOfflineMode)
      Using.resource(SentenceEncoder.load(model.dir, null, EncoderOptions.defaults().withDevice("cpu", "float32")))(
        _.encode(java.util.List.of("a text")))
      assert(System.getProperty(DjlRuntime.OFFLINE_PROPERTY) == "true")
      assert(Utils.isOfflineMode)
    } finally {
      if (saved == null) System.clearProperty(DjlRuntime.OFFLINE_PROPERTY)
      else System.setProperty(DjlRuntime.OFFLINE_PROPERTY, saved)
    }
  }

  test("every way into DJL's engines in the application goes through DjlRuntime") {
    val sources = Path.of("src/main/java")
    assume(Files.isDirectory(sources), s"run from the project root: $sources not found")
    val offenders = Using.resource(Files.walk(sources)) { paths =>
      paths.iterator().asScala.filter(_.toString.endsWith(".java"))
        .filterNot(_.getFileName.toString == "DjlRuntime.java")
        .filter(p => Files.readString(p).contains("Engine.getEngine(") || Files.readString(p).contains("Engine.getInstance("))
        .toSeq
    }
    assert(offenders.isEmpty, s"these load DJL engines without enforcing offline mode: $offenders")
  }

  /** A command prefix that runs in a fresh network namespace, or why none can be made here. */
  private lazy val netless: Either[String, Seq[String]] = {
    val candidates = Seq(Seq("unshare", "--net", "--"), Seq("unshare", "--user", "--map-root-user", "--net", "--"))
    // The probe must fail to reach an outside address for the prefix to count: no interface, no route.
    val probe = Seq("bash", "-c", "exec 3<>/dev/tcp/192.0.2.1/80")
    val tried = candidates.map { prefix =>
      val (code, out) = run(prefix ++ Seq("bash", "-c", "cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d ' '"), 20)
      val interfaces = out.linesIterator.map(_.trim).filter(_.nonEmpty).toSeq
      val (probeCode, probeOut) = if (code == 0) run(prefix ++ probe, 20) else (0, "")
      (prefix, code == 0 && interfaces == Seq("lo") && probeCode != 0, s"${prefix.mkString(" ")}: exit $code, " +
        s"interfaces $interfaces, probe exit $probeCode ${probeOut.trim}")
    }
    tried.collectFirst { case (prefix, true, _) => prefix }.toRight(tried.map(_._3).mkString("; "))
  }

  private def run(command: Seq[String], timeoutSeconds: Long): (Int, String) = {
    val p = new ProcessBuilder(command: _*).redirectErrorStream(true).start()
    val out = new String(p.getInputStream.readAllBytes())
    if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) { p.destroyForcibly(); (-1, out) }
    else (p.exitValue(), out)
  }

  test("encode with a prompt adapter in a network namespace with no way out: same vectors as in-process") {
    val prefix = netless match {
      case Right(p) => p
      case Left(why) => cancel(s"cannot create a network namespace here (needs root or user namespaces): $why")
    }
    val texts = Seq("Where is the nearest train station?", "", "naïve café — 東京 🚆")
    val dir = scratch.dir("offline-encode")
    val json = new ObjectMapper()
    val in = Files.write(dir.resolve("in.jsonl"), texts.zipWithIndex.map { case (t, i) =>
      json.writeValueAsString(java.util.Map.of("id", i, "text", t)) }.asJava)
    val out = dir.resolve("out.jsonl")
    val javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString
    // No -Dai.djl.offline here: the code must set it. Caches and scratch point where the build's tests keep them.
    val home = CacheHome.get().toString
    val command = prefix ++ Seq(javaBin, "-cp", System.getProperty("java.class.path"), s"-Dpeftembed.home=$home",
      s"-Djava.io.tmpdir=${System.getProperty("java.io.tmpdir")}",
      s"-DDJL_CACHE_DIR=${System.getProperty("DJL_CACHE_DIR", s"$home/djl")}",
      s"-Djna.tmpdir=${System.getProperty("jna.tmpdir", s"$home/jna")}", "dev.peftembed.cli.Main", "encode",
      "--model", model.dir.toString, "--adapter", adapter.toString, "--device", "cpu", "--input", in.toString,
      "--output", out.toString)
    val (code, log) = run(command, 300)
    assert(code == 0, s"encode failed without network (exit $code):\n$log")
    val rows = Files.readAllLines(out).asScala.map(json.readTree).toSeq
    assert(rows.map(_.get("id").asInt) == texts.indices)
    val expected = Using.resource(SentenceEncoder.load(model.dir, adapter,
      EncoderOptions.defaults().withDevice("cpu", "float32")))(_.encode(texts.asJava).asScala.map(_.vector()).toSeq)
    rows.zip(expected).foreach { case (row, want) =>
      val got = row.get("embedding").elements().asScala.map(_.floatValue).toArray
      assert(got.length == want.length)
      got.zip(want).foreach { case (g, w) => assert(math.abs(g - w) <= 1e-5f, s"$g vs $w") }
    }
    info(s"ran under `${prefix.mkString(" ")}`: ${rows.size} rows, ${expected.head.length} dimensions")
  }
}

package dev.peftembed.runtime

import ai.djl.util.cuda.CudaUtils
import java.nio.file.{Files, Path}
import java.util.concurrent.TimeUnit
import org.scalatest.funsuite.AnyFunSuite
import org.slf4j.LoggerFactory
import scala.jdk.CollectionConverters._

/** What an application that uses the stage gets from DJL without the scripts' flags: their caches, and quiet. */
class NativeRuntimeSuite extends AnyFunSuite {

  test("the cache home: -Dpeftembed.home, else $PEFT_EMBED_HOME, else ~/.cache/peft-embed") {
    assert(CacheHome.resolve("/p", "/e", "/u") == Path.of("/p"))
    assert(CacheHome.resolve(null, "/e", "/u") == Path.of("/e"))
    assert(CacheHome.resolve(" ", "", "/u") == Path.of("/u/.cache/peft-embed"))
  }

  test("DJL's cache goes under the cache home unless the user named one, as a property or in the environment") {
    val home = Path.of("/h")
    assert(NativeCache.djlCacheDir(null, null, home) == "/h/djl")
    assert(NativeCache.djlCacheDir("", "", home) == "/h/djl", "DJL ignores empty values, so must we")
    assert(NativeCache.djlCacheDir("/mine", null, home) == null)
    assert(NativeCache.djlCacheDir(null, "/mine", home) == null)
  }

  /** Output of a plain JVM that runs [[EngineStart]] under the given log4j 2 configuration lines. */
  private def engineStart(name: String, extraLogging: Seq[String]): Seq[String] = {
    val scratch = Files.createDirectories(Path.of("target", "native-runtime"))
    // No CudaUtils logger here, unlike conf/log4j2.properties: what an application's own configuration looks like.
    val log4j = Files.writeString(scratch.resolve(s"$name.properties"), (Seq(
      "appender.console.type = Console", "appender.console.name = console", "appender.console.target = SYSTEM_ERR",
      "appender.console.layout.type = PatternLayout", "appender.console.layout.pattern = %p %c{1}: %m%n",
      "rootLogger.level = warn", "rootLogger.appenderRef.console.ref = console") ++ extraLogging).mkString("\n"))
    val java = Path.of(System.getProperty("java.home"), "bin", "java").toString
    val builder = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
      s"-Dpeftembed.home=${CacheHome.get()}", s"-Dlog4j2.configurationFile=$log4j", classOf[EngineStart].getName)
    builder.environment().remove(NativeCache.DJL_CACHE_DIR)
    builder.environment().remove(CacheHome.ENV)
    builder.redirectErrorStream(true)
    val process = builder.start()
    val output = new String(process.getInputStream.readAllBytes())
    assert(process.waitFor(120, TimeUnit.SECONDS) && process.exitValue() == 0, output)
    output.linesIterator.toSeq
  }

  private val gpuDriver = Files.exists(Path.of("/proc/driver/nvidia"))

  test("a plain JVM that loads the engine unpacks libtorch under the cache home, and its CUDA probe is quiet") {
    val lines = engineStart("plain", Nil)
    val output = lines.mkString("\n")
    val home = CacheHome.get()
    assert(lines.contains(s"djl cache: $home/djl"), output)
    assert(lines.exists(_.startsWith(s"libtorch: $home/djl/pytorch/")), output)

    val probeWarnings = lines.filter(_.contains("Failed to detect GPU count"))
    val marker = lines.indexOf("preparing")
    if (gpuDriver) {
      assert(lines.contains("probe warns: true"), "with a GPU driver the probe's warnings mean something")
    } else {
      assert(lines.contains("probe warns: false"), output)
      assert(!probeWarnings.exists(l => lines.indexOf(l) > marker), output)
      if (probeWarnings.isEmpty) {
        info("no CUDA runtime on this machine: DJL's probe had nothing to warn about, even before prepare()")
      } else {
        info(s"before prepare() the probe warned ${probeWarnings.size} time(s); after it, never")
      }
    }
  }

  test("a level the application's logging sets for DJL wins over the quiet probe") {
    val lines = engineStart("djl-at-warn", Seq("logger.djl.name = ai.djl", "logger.djl.level = warn"))
    assert(lines.contains("probe warns: true"), lines.mkString("\n"))
  }
}

/** The suite's child JVM: asks DJL's probe once as DJL does, then readies DJL, starts the engine and reports. */
class EngineStart

object EngineStart {
  def main(args: Array[String]): Unit = {
    CudaUtils.getGpuCount
    System.err.flush()
    System.out.println("preparing")
    System.out.flush()
    DjlRuntime.pytorch()
    System.out.println(s"djl cache: ${System.getProperty(NativeCache.DJL_CACHE_DIR)}")
    // Where the process really mapped libtorch from, whatever DJL's settings say.
    Files.readAllLines(Path.of("/proc/self/maps")).asScala.map(_.split("\\s+").last)
      .find(_.endsWith("libtorch_cpu.so")).foreach(lib => System.out.println(s"libtorch: $lib"))
    System.out.println(s"probe warns: ${LoggerFactory.getLogger(CudaProbeLog.LOGGER).isWarnEnabled}")
  }
}

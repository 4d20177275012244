package dev.peftembed.spark

import dev.peftembed.testkit.ScratchSpace
import java.nio.charset.StandardCharsets.UTF_8
import java.nio.file.{Files, Path}
import org.apache.hadoop.conf.Configuration
import org.scalatest.funsuite.AnyFunSuite
import scala.jdk.CollectionConverters._

class ModelLocatorSuite extends AnyFunSuite with ScratchSpace {

  private lazy val tmp: Path = scratch.dir("model-locator")
  private lazy val cacheRoot: Path = tmp.resolve("cache")

  private def write(file: Path, text: String): Unit = {
    Files.createDirectories(file.getParent)
    Files.writeString(file, text, UTF_8)
  }

  private def tree(dir: Path): Map[String, String] =
    Files.walk(dir).iterator().asScala.filter(Files.isRegularFile(_))
      .map(f => dir.relativize(f).toString -> Files.readString(f, UTF_8)).toMap

  private def modelDir(name: String): Path = {
    val dir = tmp.resolve("remote").resolve(name)
    write(dir.resolve("config.json"), """{"hidden_size": 8}""")
    write(dir.resolve("1_Pooling/config.json"), """{"pooling_mode_mean_tokens": true}""")
    write(dir.resolve("model.safetensors"), "weights")
    dir
  }

  test("a file: URI is copied once into the cache, keeping the directory's name and contents") {
    val dir = modelDir("tiny-model")
    val source = ModelSource.of(dir.toUri.toString, new Configuration(), "model directory")
    assert(source.kind == ModelSource.Kind.REMOTE)
    val local = ModelLocator.localize(source, cacheRoot)
    assert(local.getFileName.toString == "tiny-model")
    assert(local.startsWith(cacheRoot))
    assert(tree(local) == tree(dir))
    assert(!tree(local).keys.exists(_.endsWith(".crc")), "no checksum side files in the copy")

    // The same source again is the same copy, without copying: a file deleted from the copy stays deleted.
    Files.delete(local.resolve("model.safetensors"))
    assert(ModelLocator.localize(source, cacheRoot) == local)
    assert(!Files.exists(local.resolve("model.safetensors")))
  }

  test("a changed remote directory gets a new fingerprint and a fresh copy") {
    val dir = modelDir("changing-model")
    val before = ModelSource.of(dir.toUri.toString, new Configuration(), "model directory")
    val first = ModelLocator.localize(before, cacheRoot)
    write(dir.resolve("model.safetensors"), "retrained weights")
    val after = ModelSource.of(dir.toUri.toString, new Configuration(), "model directory")
    assert(after.fingerprint != before.fingerprint)
    val second = ModelLocator.localize(after, cacheRoot)
    assert(second != first)
    assert(Files.readString(second.resolve("model.safetensors"), UTF_8) == "retrained weights")
  }

  test("a missing or non-directory remote location fails on describe, naming it") {
    val missing = tmp.resolve("nowhere").toUri.toString
    val e = intercept[IllegalArgumentException](ModelSource.of(missing, new Configuration(), "adapter directory"))
    assert(e.getMessage == s"$missing: adapter directory not found")
    val file = tmp.resolve("a-file")
    write(file, "x")
    val f = intercept[IllegalArgumentException](
      ModelSource.of(file.toUri.toString, new Configuration(), "model directory"))
    assert(f.getMessage.contains("not a directory"))
  }

  test("plain paths pass through, and an empty location is the default model") {
    val plain = ModelSource.of("/models/mini", new Configuration(), "model directory")
    assert(plain.kind == ModelSource.Kind.LOCAL && plain.hadoopConf == null)
    assert(ModelLocator.localize(plain, cacheRoot) == Path.of("/models/mini"))
    val relative = ModelSource.of("shipped-model", new Configuration(), "model directory")
    assert(ModelLocator.localize(relative, cacheRoot) == Path.of("shipped-model"))
    assert(ModelSource.of("", new Configuration(), "model directory").kind == ModelSource.Kind.DEFAULT)
  }
}

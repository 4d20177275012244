package dev.peftembed.spark

import dev.peftembed.embed.{EncoderOptions, SentenceEncoder}
import dev.peftembed.testkit.{BadFiles, Console, LocalSparkSession, ModelVariants, ScratchSpace, TestModels,
  TinyPromptBert}
import java.nio.file.attribute.PosixFilePermission
import java.nio.file.{Files, LinkOption, Path}
import org.scalatest.funsuite.AnyFunSuite
import scala.jdk.CollectionConverters._
import scala.util.Using

/**
 * Model paths are read-only: nothing is written next to a model. The tests run as root in CI, where permissions are not
 * enforced, so the model, adapter and graph copies are made read-only (which binds a non-root run) and, above all,
 * their whole parent tree is recorded before and after encoding in every way: in-process, the `encode` command, and the
 * Spark stage. Names, types, sizes and modification times must not change.
 */
class ReadOnlyModelSuite extends AnyFunSuite with LocalSparkSession with ScratchSpace {
  /** Every entry under `root`: relative path, kind, size, modification time. */
  private def snapshot(root: Path): Map[String, (Boolean, Long, Long)] =
    Using.resource(Files.walk(root)) { paths =>
      paths.iterator().asScala.map { p =>
        root.relativize(p).toString -> (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS), Files.size(p),
          Files.getLastModifiedTime(p, LinkOption.NOFOLLOW_LINKS).toMillis)
      }.toMap
    }

  private def writable(root: Path, on: Boolean): Unit = Using.resource(Files.walk(root)) { paths =>
    paths.iterator().asScala.foreach { p =>
      val perms = Files.getPosixFilePermissions(p)
      val w = Seq(PosixFilePermission.OWNER_WRITE, PosixFilePermission.GROUP_WRITE, PosixFilePermission.OTHERS_WRITE)
      if (on) perms.add(PosixFilePermission.OWNER_WRITE) else w.foreach(perms.remove)
      Files.setPosixFilePermissions(p, perms)
    }
  }

  test("encoding in-process, with the encode command and in the Spark stage writes nothing next to the models") {
    val parent = scratch.dir("read-only-models")
    val model = ModelVariants.copyTree(TestModels.miniLm.dir, parent.resolve("model"))
    val adapter = ModelVariants.copyTree(TestModels.promptAdapter(TestModels.miniLm, 8, seed = 8)._1,
      parent.resolve("adapter"))
    val graph = ModelVariants.copyTree(TinyPromptBert.promptGraph, parent.resolve("graph"))
    val work = scratch.dir("read-only-work")
    writable(parent, on = false)
    try {
      val before = snapshot(parent)
      val texts = Seq("first text", "a second, longer text to embed", "")
      val cpu = EncoderOptions.defaults().withDevice("cpu", "float32")
      Using.resource(SentenceEncoder.load(model, adapter, cpu))(e => assert(e.encode(texts.asJava).size == 3))
      Using.resource(SentenceEncoder.load(graph, null, cpu))(e => assert(e.encode(texts.asJava).size == 3))

      val in = Files.writeString(work.resolve("in.jsonl"), texts.zipWithIndex.map { case (t, i) =>
        s"""{"id": $i, "text": "$t"}""" }.mkString("\n") + "\n")
      val (code, _, err) = Console.run("encode", "--model", model.toString, "--adapter", adapter.toString,
        "--input", in.toString, "--output", work.resolve("out.jsonl").toString, "--device", "cpu")
      assert(code == 0, err)

      val session = spark
      import session.implicits._
      val df = texts.toDF("text").repartition(2)
      Seq(new PeftEmbedder().setModelPath(model.toString).setAdapterPath(adapter.toString),
        new PeftEmbedder().setModelPath(graph.toString)).foreach { stage =>
        assert(stage.transform(df).filter($"embedding".isNotNull).count() == 3)
      }

      val after = snapshot(parent)
      val changed = (before.keySet ++ after.keySet).filter(k => before.get(k) != after.get(k))
      assert(changed.isEmpty, s"written next to the models: ${changed.map(k => s"$k ${before.get(k)} -> ${after.get(k)}")}")
      info(s"${before.size} entries under $parent unchanged")
    } finally {
      writable(parent, on = true)
      BadFiles.delete(parent)
      BadFiles.delete(work)
    }
  }
}

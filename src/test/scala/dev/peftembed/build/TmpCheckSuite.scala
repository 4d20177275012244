package dev.peftembed.build

import dev.peftembed.testkit.ScratchSpace
import java.nio.file.{Files, Path}
import java.util.concurrent.TimeUnit
import org.scalatest.funsuite.AnyFunSuite

/** src/build/TmpCheck.java, the POM's proof that verify leaves nothing in /tmp, run on a temp directory of its own. */
class TmpCheckSuite extends AnyFunSuite with ScratchSpace {
  private val source = Path.of("src/build/TmpCheck.java").toAbsolutePath
  private val java = Path.of(System.getProperty("java.home"), "bin", "java").toString

  /** Runs the checker; returns its exit code, stdout and stderr. */
  private def check(args: String*): (Int, String, String) = {
    val dir = scratch.dir("run")
    val p = new ProcessBuilder((Seq(java, source.toString) ++ args): _*)
      .redirectOutput(dir.resolve("out").toFile).redirectError(dir.resolve("err").toFile).start()
    assert(p.waitFor(120, TimeUnit.SECONDS), "TmpCheck ran over 120 s")
    (p.exitValue(), Files.readString(dir.resolve("out")), Files.readString(dir.resolve("err")))
  }

  test("new entries named as the build's writers name them fail the check; others are only listed") {
    assume(Files.isRegularFile(source), s"run from the project root: $source not found")
    val tmp = scratch.dir("tmp")
    val state = scratch.dir("state").resolve("before.txt")
    Files.writeString(tmp.resolve("old-report1234567890.txt"), "there before")
    val made = scratch.root.resolve("made-by-snapshot")
    assert(check("snapshot", tmp.toString, state.toString, made.toString)._1 == 0)
    assert(Files.isDirectory(made), "snapshot creates the build's own temp directories")
    assert(check("compare", tmp.toString, state.toString) == (0, s"tmp check: nothing new from this build in $tmp\n",
      ""))

    Files.createDirectory(tmp.resolve("model-variant8812345678901234567"))
    Files.createDirectory(tmp.resolve("spark-0b6a3c9e-5d2f-4e8a-9c41-7f3e2d1a0b9c"))
    Files.writeString(tmp.resolve("tmpk3x_9abz"), "python's tempfile")
    Files.writeString(tmp.resolve("tmp.Q1w2E3r4T5"), "a shell's mktemp")
    Files.writeString(tmp.resolve("old-report1234567890.txt"), "rewritten: not new")
    val (code, out, err) = check("compare", tmp.toString, state.toString)
    assert(code == 1, s"stdout: $out\nstderr: $err")
    val listed = err.linesIterator.filter(_.startsWith("  ")).map(_.trim.takeWhile(_ != ' ')).toSet
    assert(listed == Set("model-variant8812345678901234567", "tmpk3x_9abz",
      "spark-0b6a3c9e-5d2f-4e8a-9c41-7f3e2d1a0b9c"), err)
    assert(err.contains("this build left 3 new entries"), err)
    assert(out.contains("but not the build's: tmp.Q1w2E3r4T5"), out)
  }

  test("an entry another live process works in is that process's, not the build's") {
    assume(Files.isRegularFile(source), s"run from the project root: $source not found")
    val tmp = scratch.dir("tmp")
    val state = scratch.dir("state").resolve("before.txt")
    assert(check("snapshot", tmp.toString, state.toString)._1 == 0)
    val busy = Files.createDirectory(tmp.resolve("onnxruntime-java5245867669260785234"))
    val other = new ProcessBuilder("sleep", "60").directory(busy.toFile).start()
    try {
      val (code, out, err) = check("compare", tmp.toString, state.toString)
      assert(code == 0, err)
      assert(out.contains(s"onnxruntime-java5245867669260785234") && out.contains(s"in use by pid ${other.pid}"), out)
    } finally other.destroyForcibly().waitFor()
  }
}

package dev.peftembed.testkit

import java.nio.file.{Files, Path}
import org.scalatest.{Args, Reporter}
import org.scalatest.events.{Event, TestFailed, TestSucceeded}
import org.scalatest.funsuite.AnyFunSuite
import scala.collection.mutable

class ScratchSuite extends AnyFunSuite {

  /** A suite that leaves what tests leave: files, a read-only directory, a link to a file it must not delete. */
  private final class Leaver(outside: Path) extends AnyFunSuite with ScratchSpace {
    var root: Path = _
    test("writes scratch") {
      root = scratch.root
      val dir = scratch.dir("read-only")
      Files.writeString(dir.resolve("f.txt"), "x")
      Files.createDirectories(dir.resolve("sub/deeper"))
      Files.createSymbolicLink(dir.resolve("link"), outside)
      Files.writeString(scratch.file("loose", ".jsonl"), "{}")
      assert(dir.toFile.setWritable(false) && dir.resolve("sub").toFile.setWritable(false))
    }
  }

  test("a suite's scratch lies under java.io.tmpdir and is deleted when the suite ends, read-only directories too") {
    val keep = Files.createTempDirectory("scratch-suite-outside")
    try {
      val outside = Files.writeString(keep.resolve("target.txt"), "not scratch")
      val leaver = new Leaver(outside)
      val events = mutable.Buffer[Event]()
      leaver.run(None, Args(new Reporter { def apply(e: Event): Unit = events.synchronized(events += e) }))
      assert(events.collect { case f: TestFailed => f.message }.isEmpty)
      assert(events.count(_.isInstanceOf[TestSucceeded]) == 1)
      assert(leaver.root.getParent == Path.of(System.getProperty("java.io.tmpdir")).toAbsolutePath)
      assert(leaver.root.getFileName.toString.startsWith("ScratchSuite_Leaver-"), "named after the suite")
      assert(!Files.exists(leaver.root), s"${leaver.root} outlived its suite")
      assert(Files.readString(outside) == "not scratch", "a link was followed")
    } finally Scratch.deleteTree(keep)
  }
}

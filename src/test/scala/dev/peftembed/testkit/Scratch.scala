package dev.peftembed.testkit

import java.io.IOException
import java.nio.file.{FileVisitResult, Files, Path, SimpleFileVisitor}
import java.nio.file.attribute.BasicFileAttributes
import org.scalatest.{BeforeAndAfterAll, Suite}

/**
 * One suite's scratch files: a directory under `java.io.tmpdir` (the POM points it at target/tmp), deleted with
 * everything in it when the suite ends. A JVM-wide temp directory only grows over a build, by about 1.4 GB of model
 * copies and Spark tables per `mvn verify`; a suite's own directory can go as soon as its last test is done.
 */
final class Scratch private (val root: Path) {

  /** A new empty directory whose name starts with `prefix`. */
  def dir(prefix: String): Path = Files.createTempDirectory(root, prefix)

  /** A new empty file whose name starts with `prefix` and ends with `suffix`. */
  def file(prefix: String, suffix: String): Path = Files.createTempFile(root, prefix, suffix)

  /** Deletes the directory and all it holds, symbolic links as links, read-only directories included. */
  def delete(): Unit = Scratch.deleteTree(root)
}

object Scratch {
  /** A fresh scratch directory named after `owner`. */
  def apply(owner: String): Scratch = {
    val tmp = Path.of(System.getProperty("java.io.tmpdir"))
    Files.createDirectories(tmp)
    new Scratch(Files.createTempDirectory(tmp, owner.replaceAll("[^A-Za-z0-9_.-]", "_") + "-"))
  }

  /** Deletes a tree without following links; directories a test made read-only are made writable first. */
  def deleteTree(dir: Path): Unit = if (Files.exists(dir)) {
    Files.walkFileTree(dir, new SimpleFileVisitor[Path] {
      override def preVisitDirectory(d: Path, attrs: BasicFileAttributes): FileVisitResult = {
        d.toFile.setWritable(true, true)
        d.toFile.setExecutable(true, true)
        d.toFile.setReadable(true, true)
        FileVisitResult.CONTINUE
      }

      override def visitFile(f: Path, attrs: BasicFileAttributes): FileVisitResult = {
        Files.delete(f)
        FileVisitResult.CONTINUE
      }

      override def postVisitDirectory(d: Path, e: IOException): FileVisitResult = {
        if (e != null) throw e
        Files.delete(d)
        FileVisitResult.CONTINUE
      }
    })
  }
}

/**
 * Gives a suite its [[Scratch]], implicit so that the testkit's file writers (model variants, join tables) put their
 * copies there too, and deletes it after the suite's last test.
 */
trait ScratchSpace extends BeforeAndAfterAll { this: Suite =>
  protected implicit lazy val scratch: Scratch = Scratch(suiteName)

  override protected def afterAll(): Unit = {
    try super.afterAll()
    finally scratch.delete()
  }
}

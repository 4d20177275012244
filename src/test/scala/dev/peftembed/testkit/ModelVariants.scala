package dev.peftembed.testkit

import java.nio.file.{Files, Path}
import scala.jdk.CollectionConverters._
import scala.util.Using

/** Scratch copies of a model directory to modify: configs copied, large weight files linked. */
object ModelVariants {
  def copyOf(source: Path)(implicit scratch: Scratch): Path = {
    val target = scratch.dir("model-variant")
    Using.resource(Files.walk(source)) { paths =>
      paths.iterator().asScala.filter(Files.isRegularFile(_)).foreach { p =>
        val dest = target.resolve(source.relativize(p).toString)
        Files.createDirectories(dest.getParent)
        if (Files.size(p) > (4 << 20)) Files.createSymbolicLink(dest, p) else Files.copy(p, dest)
      }
    }
    target
  }

  /** A byte-for-byte copy of a directory tree at `target` (no links, unlike copyOf), empty directories included. */
  def copyTree(source: Path, target: Path): Path = {
    Using.resource(Files.walk(source)) { paths =>
      paths.iterator().asScala.foreach { p =>
        val dest = target.resolve(source.relativize(p).toString)
        if (Files.isDirectory(p)) Files.createDirectories(dest) else Files.copy(p, dest)
      }
    }
    target
  }

  def write(file: Path, text: String): Path = {
    Files.createDirectories(file.getParent)
    Files.writeString(file, text)
  }
}

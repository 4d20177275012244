package dev.peftembed.testkit

import com.fasterxml.jackson.databind.ObjectMapper
import com.fasterxml.jackson.databind.node.ObjectNode
import java.io.ByteArrayOutputStream
import java.nio.{ByteBuffer, ByteOrder}
import java.nio.channels.FileChannel
import java.nio.file.{Files, Path, StandardOpenOption}
import java.util.zip.{CRC32, ZipEntry, ZipFile, ZipOutputStream}
import scala.jdk.CollectionConverters._
import scala.util.Using

/** Writers of damaged model files, built from real ones: what a disk, a copy or a hostile party leaves behind. */
object BadFiles {
  private val json = new ObjectMapper()

  /** A safetensors file's 8-byte header length, its JSON header and where its data section starts. */
  final case class Layout(headerLength: Long, header: ObjectNode, dataStart: Long)

  def layout(file: Path): Layout = Using.resource(FileChannel.open(file, StandardOpenOption.READ)) { ch =>
    val len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN)
    ch.read(len, 0)
    val n = len.flip().getLong
    val header = ByteBuffer.allocate(n.toInt)
    ch.read(header, 8)
    Layout(n, json.readTree(header.array()).asInstanceOf[ObjectNode], 8 + n)
  }

  /** Copies a safetensors file with its JSON header edited; tensor offsets are relative, so the data stays valid. */
  def editHeader(src: Path, dst: Path)(edit: ObjectNode => Unit): Path = {
    val l = layout(src)
    edit(l.header)
    val header = json.writeValueAsBytes(l.header)
    writeWith(src, dst, l.dataStart) { out =>
      out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length.toLong).flip())
      out.write(ByteBuffer.wrap(header))
    }
  }

  /** Copies a file with its first 8 bytes (a safetensors header length) replaced. */
  def headerLength(src: Path, dst: Path, value: Long): Path =
    writeWith(src, dst, 8)(_.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(value).flip()))

  /** Copies the first `bytes` bytes of a file. */
  def truncate(src: Path, dst: Path, bytes: Long): Path = {
    Using.resources(FileChannel.open(src, StandardOpenOption.READ),
      FileChannel.open(dst, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
      (in, out) => transfer(in, 0, bytes, out)
    }
    dst
  }

  /** A copy of a zip archive (a TorchScript file) with the record whose name ends in `suffix` replaced, stored. */
  def replaceZipRecord(src: Path, dst: Path, suffix: String, content: Array[Byte]): Path = {
    Using.resources(new ZipFile(src.toFile), new ZipOutputStream(Files.newOutputStream(dst))) { (zip, out) =>
      zip.entries().asScala.foreach { e =>
        val bytes = if (e.getName.endsWith(suffix)) content else zip.getInputStream(e).readAllBytes()
        out.putNextEntry(stored(e.getName, bytes))
        out.write(bytes)
        out.closeEntry()
      }
    }
    dst
  }

  /** A zip archive of the given records, as `torch.save` writes a tensor or state_dict: pickles and data, no code. */
  def zipOf(dst: Path, records: (String, Array[Byte])*): Path = {
    Using.resource(new ZipOutputStream(Files.newOutputStream(dst))) { out =>
      records.foreach { case (name, bytes) =>
        out.putNextEntry(stored(name, bytes))
        out.write(bytes)
        out.closeEntry()
      }
    }
    dst
  }

  private def stored(name: String, bytes: Array[Byte]): ZipEntry = {
    val e = new ZipEntry(name)
    val crc = new CRC32()
    crc.update(bytes)
    e.setMethod(ZipEntry.STORED)
    e.setSize(bytes.length.toLong)
    e.setCompressedSize(bytes.length.toLong)
    e.setCrc(crc.getValue)
    e
  }

  /** Writes `prefix`, then the rest of `src` from `from` on. */
  private def writeWith(src: Path, dst: Path, from: Long)(prefix: FileChannel => Unit): Path = {
    Using.resources(FileChannel.open(src, StandardOpenOption.READ),
      FileChannel.open(dst, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
      (in, out) =>
        prefix(out)
        transfer(in, from, in.size() - from, out)
    }
    dst
  }

  private def transfer(in: FileChannel, from: Long, count: Long, out: FileChannel): Unit = {
    var done = 0L
    while (done < count) {
      val n = in.transferTo(from + done, count - done, out)
      if (n <= 0) throw new IllegalStateException(s"short transfer at ${from + done}")
      done += n
    }
  }

  /** A copy of `dir` where `name` is a real file (not the link ModelVariants makes for large files), then edited. */
  def variantWith(dir: Path, name: String)(write: (Path, Path) => Unit)(implicit scratch: Scratch): Path = {
    val copy = ModelVariants.copyOf(dir)
    Files.delete(copy.resolve(name))
    write(dir.resolve(name), copy.resolve(name))
    copy
  }

  /** Deletes a scratch tree. */
  def delete(dir: Path): Unit = if (dir != null && Files.exists(dir)) {
    Using.resource(Files.walk(dir))(_.iterator().asScala.toSeq.reverse.foreach(Files.deleteIfExists))
  }

  /** Pickle protocol 2 bytes, as the legacy `torch.save` writes: never to be unpickled. */
  val pickle: Array[Byte] = {
    val b = new ByteArrayOutputStream()
    b.write(Array[Byte](0x80.toByte, 2, '}'.toByte, 'q'.toByte, 0, '.'.toByte))
    b.toByteArray
  }
}

package dev.peftembed.model

import dev.peftembed.testkit.ScratchSpace
import java.nio.{ByteBuffer, ByteOrder}
import java.nio.charset.StandardCharsets.UTF_8
import java.nio.file.{Files, Path}
import org.scalatest.funsuite.AnyFunSuite

/** Every size and offset in a safetensors header is checked against the file before anything is read. */
class SafetensorsFileSuite extends AnyFunSuite with ScratchSpace {
  private def file(header: String, data: Array[Byte], declaredLength: Option[Long] = None): Path = {
    val h = header.getBytes(UTF_8)
    val buf = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN)
    buf.putLong(declaredLength.getOrElse(h.length.toLong)).put(h).put(data)
    val p = scratch.file("t", ".safetensors")
    Files.write(p, buf.array())
    p
  }

  private def le(values: Short*): Array[Byte] = {
    val b = ByteBuffer.allocate(values.length * 2).order(ByteOrder.LITTLE_ENDIAN)
    values.foreach(v => b.putShort(v))
    b.array()
  }

  private def failure(p: Path): String = intercept[ModelFormatException](SafetensorsFile.open(p).read("x")).getMessage

  test("F16 and BF16 are widened to float32 in Java, subnormals and signs included") {
    // F16: 1.0 = 0x3C00, -2.0 = 0xC000, smallest subnormal = 0x0001 (2^-24). BF16: 1.5 = 0x3FC0, -0.25 = 0xBE80.
    val p = file("""{"h":{"dtype":"F16","shape":[3],"data_offsets":[0,6]},
      "b":{"dtype":"BF16","shape":[2],"data_offsets":[6,10]}}""",
      le(0x3C00.toShort, 0xC000.toShort, 0x0001.toShort, 0x3FC0.toShort, 0xBE80.toShort))
    val f = SafetensorsFile.open(p)
    assert(f.read("h").data.toSeq == Seq(1.0f, -2.0f, math.pow(2, -24).toFloat))
    assert(f.read("b").data.toSeq == Seq(1.5f, -0.25f))
  }

  test("a file shorter than its length prefix is refused") {
    val p = scratch.file("t", ".safetensors")
    Files.write(p, Array[Byte](1, 2, 3))
    assert(failure(p).contains("truncated safetensors file"))
  }

  test("a header length larger than the file, or absurdly large, is refused before allocating it") {
    val data = new Array[Byte](4)
    val header = """{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"""
    assert(failure(file(header, data, Some(10000L))).contains("header length 10000 is out of range"))
    assert(failure(file(header, data, Some(1L << 40))).contains("out of range"))
    assert(failure(file(header, data, Some(-1L))).contains("out of range"))
  }

  test("offsets beyond the data section (a truncated file) are refused") {
    val p = file("""{"x":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}""", new Array[Byte](8))
    val msg = failure(p)
    assert(msg.startsWith(p.toString))
    assert(msg.contains("data_offsets [0, 16] out of range (data section has 8 bytes)"))
  }

  test("offsets that disagree with shape and dtype are refused") {
    val p = file("""{"x":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}""", new Array[Byte](8))
    assert(failure(p).contains("needs 12"))
  }

  test("overlapping tensors are refused") {
    val p = file("""{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},
      "y":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", new Array[Byte](12))
    assert(failure(p).contains("overlap"))
  }

  test("an unknown dtype is refused, naming the known ones") {
    val p = file("""{"x":{"dtype":"Q4","shape":[2],"data_offsets":[0,1]}}""", new Array[Byte](1))
    val msg = failure(p)
    assert(msg.contains("unknown dtype \"Q4\""))
    assert(msg.contains("BF16"))
  }

  test("an integer tensor is indexed but not read as weights") {
    val p = file("""{"x":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}""", new Array[Byte](8))
    assert(failure(p).contains("expected F32, F16, BF16 or F64"))
  }

  test("a header that is not JSON is refused") {
    assert(failure(file("{not json", new Array[Byte](0))).contains("not valid JSON"))
  }

  test("a shape whose product overflows is refused") {
    val p = file("""{"x":{"dtype":"F32","shape":[4294967296,4294967296,4],"data_offsets":[0,4]}}""",
      new Array[Byte](4))
    assert(failure(p).contains("larger than the file"))
  }
}

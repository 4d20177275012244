package dev.peftembed.pooling

import ai.djl.engine.Engine
import ai.djl.ndarray.types.Shape
import dev.peftembed.model.PoolingConfig
import dev.peftembed.testkit.ScratchSpace
import java.nio.file.Files
import org.scalatest.funsuite.AnyFunSuite
import scala.jdk.CollectionConverters._
import scala.util.Using

/** The six pooling modes against values computed by hand, and the mask alignment that feeds them. */
class PoolingSuite extends AnyFunSuite with ScratchSpace {
  // Two rows, three positions, two dimensions. Row 0 has its last position padded.
  private val tokens = Array[Float](1, 2, 3, 4, 5, 6, -1, 0, 2, -2, 4, 8)
  private val mask = new AlignedMask(2, 3, Array[Float](1, 1, 0, 1, 1, 1), 0, Array(1, 2))

  private def pool(modes: PoolingMode*): Array[Float] =
    Using.resource(Engine.getEngine("PyTorch").newBaseManager()) { m =>
      new Pooler(modes.asJava).pool(m.create(tokens, new Shape(2, 3, 2)), mask).toFloatArray
    }

  private def assertClose(actual: Array[Float], expected: Double*): Unit = {
    assert(actual.length == expected.length, s"${actual.mkString(",")} vs ${expected.mkString(",")}")
    actual.zip(expected).foreach { case (a, e) => assert(math.abs(a - e) < 1e-5, s"${actual.mkString(",")}") }
  }

  test("cls takes the vector at the CLS position") {
    assertClose(pool(PoolingMode.CLS), 1, 2, -1, 0)
  }

  test("max ignores padded positions") {
    assertClose(pool(PoolingMode.MAX), 3, 4, 4, 8)
  }

  test("mean divides by the number of attended positions") {
    assertClose(pool(PoolingMode.MEAN), 2, 3, 5.0 / 3, 2)
  }

  test("mean_sqrt_len divides the sum by the square root of the count") {
    assertClose(pool(PoolingMode.MEAN_SQRT_LEN), 4 / math.sqrt(2), 6 / math.sqrt(2), 5 / math.sqrt(3), 6 / math.sqrt(3))
  }

  test("weightedmean weights position i by i+1") {
    assertClose(pool(PoolingMode.WEIGHTED_MEAN), 7.0 / 3, 10.0 / 3, 15.0 / 6, 20.0 / 6)
  }

  test("lasttoken takes the last attended position") {
    assertClose(pool(PoolingMode.LAST_TOKEN), 3, 4, 4, 8)
  }

  test("several modes concatenate per row") {
    assertClose(pool(PoolingMode.CLS, PoolingMode.MEAN), 1, 2, 2, 3, -1, 0, 5.0 / 3, 2)
  }

  test("config flags are read in sentence-transformers' concatenation order, whatever their order in the file") {
    val dir = scratch.dir("pooling")
    val file = dir.resolve("config.json")
    Files.writeString(file, """{"word_embedding_dimension": 4, "pooling_mode_lasttoken": true,
      "pooling_mode_mean_tokens": true, "pooling_mode_cls_token": true, "include_prompt": false}""")
    val c = PoolingConfig.read(file)
    assert(c.modes.asScala == Seq(PoolingMode.CLS, PoolingMode.MEAN, PoolingMode.LAST_TOKEN))
    assert(!c.includePrompt)
    assert(c.outputDimension == 12)
  }

  test("include aligns M attended virtual positions before the real tokens; CLS is position 0") {
    val a = new MaskAligner(2, VirtualTokenPolicy.INCLUDE, "adapter").align(Array(3, 1), 3, 5, 0)
    assert(a.values.toSeq == Seq(1, 1, 1, 1, 1, 1, 1, 1, 0, 0).map(_.toFloat))
    assert(a.clsPosition == 0)
    assert(a.lastPositions.toSeq == Seq(4, 2))
  }

  test("exclude leaves virtual positions out; CLS is the real [CLS] at M; lasttoken is the last real token") {
    val a = new MaskAligner(2, VirtualTokenPolicy.EXCLUDE, "adapter").align(Array(3, 1), 3, 5, 0)
    assert(a.values.toSeq == Seq(0, 0, 1, 1, 1, 0, 0, 1, 0, 0).map(_.toFloat))
    assert(a.clsPosition == 2)
    assert(a.lastPositions.toSeq == Seq(4, 2))
  }

  test("a text prompt is masked on the real tokens, never on the virtual ones") {
    val a = new MaskAligner(2, VirtualTokenPolicy.INCLUDE, "adapter").align(Array(5), 5, 7, 3)
    assert(a.values.toSeq == Seq(1, 1, 0, 0, 0, 1, 1).map(_.toFloat))
  }

  test("an output length that M does not explain is an error naming both lengths, M and the adapter") {
    val e = intercept[MaskAlignmentException] {
      new MaskAligner(0, VirtualTokenPolicy.INCLUDE, "/models/adapter").align(Array(53), 53, 54, 0)
    }
    assert(e.getMessage.contains("54 token embeddings"))
    assert(e.getMessage.contains("attention mask of 53"))
    assert(e.getMessage.contains("M = 0"))
    assert(e.getMessage.contains("/models/adapter"))
    assert(!e.getMessage.contains("expanded size"))
  }
}

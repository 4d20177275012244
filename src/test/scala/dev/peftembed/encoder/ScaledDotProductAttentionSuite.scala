package dev.peftembed.encoder

import ai.djl.engine.Engine
import ai.djl.ndarray.types.Shape
import ai.djl.pytorch.engine.PtNDManager
import java.util.Random
import org.scalatest.funsuite.AnyFunSuite
import scala.util.Using

/** The fused kernel against attention written out in double: softmax(q·kᵀ + mask)·v, padded keys ignored. */
class ScaledDotProductAttentionSuite extends AnyFunSuite {
  private val (b, heads, len, d) = (3, 2, 7, 4)
  private val rnd = new Random(11)
  private def randoms(n: Int) = Array.fill(n)(rnd.nextGaussian().toFloat)
  private val q = randoms(b * heads * len * d)
  private val k = randoms(b * heads * len * d)
  private val v = randoms(b * heads * len * d)
  private val realLengths = Array(7, 4, 1)
  private val bias = Array.tabulate(b * len)(i => if (i % len < realLengths(i / len)) 0f else -Float.MaxValue)

  private def at(x: Array[Float], r: Int, h: Int, i: Int, j: Int) = x(((r * heads + h) * len + i) * d + j).toDouble

  private def expected: Array[Double] = {
    val out = new Array[Double](b * heads * len * d)
    for (r <- 0 until b; h <- 0 until heads; i <- 0 until len) {
      val scores = Array.tabulate(len)(t =>
        if (t < realLengths(r)) (0 until d).map(j => at(q, r, h, i, j) * at(k, r, h, t, j)).sum else Double.NegativeInfinity)
      val top = scores.max
      val weights = scores.map(s => math.exp(s - top))
      val total = weights.sum
      for (j <- 0 until d) {
        out(((r * heads + h) * len + i) * d + j) = (0 until len).map(t => weights(t) / total * at(v, r, h, t, j)).sum
      }
    }
    out
  }

  test("the compiled module computes masked attention with scale 1, as the folded query weights expect") {
    val got = Using.resource(Engine.getEngine("PyTorch").newBaseManager().asInstanceOf[PtNDManager]) { m =>
      val kernel = ScaledDotProductAttention.load(m)
      val shape = new Shape(b, heads, len, d)
      kernel.forward(m.create(q, shape), m.create(k, shape), m.create(v, shape),
        m.create(bias, new Shape(b, 1, 1, len))).toFloatArray
    }
    assert(got.length == expected.length)
    got.zip(expected).foreach { case (g, e) => assert(math.abs(g - e) < 1e-5, s"$g vs $e") }
  }
}

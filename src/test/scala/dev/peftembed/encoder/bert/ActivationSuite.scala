package dev.peftembed.encoder.bert

import ai.djl.engine.Engine
import dev.peftembed.model.HiddenActivation
import org.scalatest.funsuite.AnyFunSuite
import scala.util.Using

/** The feed-forward activations against their definitions, computed in double. */
class ActivationSuite extends AnyFunSuite {
  private val xs = Array[Float](-6f, -3f, -1.5f, -0.5f, -1e-3f, 0f, 1e-3f, 0.5f, 1.5f, 3f, 6f)

  private def erf(x: Double): Double = {
    // Abramowitz-Stegun 7.1.26 is too coarse for 1e-6; integrate the series instead.
    var sum = 0.0; var term = x; var n = 0
    while (math.abs(term) > 1e-17 && n < 200) {
      sum += term / (2 * n + 1); n += 1; term = -term * x * x / n
    }
    2 / math.sqrt(math.Pi) * sum
  }

  private def run(a: HiddenActivation): Array[Float] =
    Using.resource(Engine.getEngine("PyTorch").newBaseManager()) { m =>
      BertIntermediate.activate(m.create(xs), a).toFloatArray
    }

  private def check(a: HiddenActivation, f: Double => Double): Unit = {
    val ys = run(a)
    assert(ys.length == xs.length, s"$a returned ${ys.length} values for ${xs.length} inputs")
    ys.zip(xs).foreach { case (y, x) => assert(math.abs(y - f(x)) < 2e-6, s"$a($x) = $y, expected ${f(x)}") }
  }

  test("gelu is exact: x·Φ(x)") {
    check(HiddenActivation.GELU, x => 0.5 * x * (1 + erf(x / math.sqrt(2))))
  }

  test("gelu_new is the tanh approximation") {
    check(HiddenActivation.GELU_TANH, x => 0.5 * x * (1 + math.tanh(math.sqrt(2 / math.Pi) * (x + 0.044715 * x * x * x))))
  }

  test("relu") {
    check(HiddenActivation.RELU, x => math.max(0, x))
  }
}

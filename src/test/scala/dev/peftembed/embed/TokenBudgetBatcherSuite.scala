package dev.peftembed.embed

import java.util.Random
import org.scalatest.funsuite.AnyFunSuite
import scala.jdk.CollectionConverters._

/** The batch plan: every text once, budgets kept, padding bounded. */
class TokenBudgetBatcherSuite extends AnyFunSuite {
  private val rnd = new Random(3)
  private val lengths = Array.fill(5000)(math.min(256, math.max(3, math.exp(rnd.nextGaussian() * 0.75 + 3.7).toInt)))

  private def plan(rows: Int, tokens: Int, ls: Array[Int] = lengths): Seq[Array[Int]] =
    new TokenBudgetBatcher(rows, tokens).batches(ls).asScala.toSeq

  test("every text is in exactly one batch, longest first") {
    val batches = plan(64, 16384)
    assert(batches.flatten.sorted == lengths.indices)
    val firsts = batches.map(b => lengths(b.head))
    assert(firsts == firsts.sorted.reverse)
  }

  test("padded length × rows stays within the budget, rows within the batch size") {
    for (b <- plan(64, 4096)) {
      assert(b.length <= 64)
      assert(b.length == 1 || lengths(b.head) * b.length <= 4096)
    }
  }

  test("no batch pads its shortest text by more than 15% of the padded length") {
    val batches = plan(64, 16384)
    for (b <- batches) {
      val (padded, shortest) = (lengths(b.head), lengths(b.last))
      assert(20 * (padded - shortest) <= 3 * padded, s"padded length $padded, shortest text $shortest")
    }
    val real = lengths.map(_.toLong).sum
    val padded = batches.map(b => lengths(b.head).toLong * b.length).sum
    info(f"padding efficiency ${real.toDouble / padded}%.3f over ${batches.size} batches")
    assert(real.toDouble / padded >= 0.9)
  }

  test("a text longer than the whole budget gets a batch of its own") {
    assert(plan(64, 100, Array(500, 20, 20)).map(_.toSeq) == Seq(Seq(0), Seq(1, 2)))
  }
}

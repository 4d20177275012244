package dev.peftembed.pooling

import dev.peftembed.testkit.LogCapture
import java.util.concurrent.{CountDownLatch, Executors, TimeUnit}
import org.scalatest.funsuite.AnyFunSuite
import scala.util.Try

/** M detected from the output where nobody declared it; every implausible or inconsistent M is a clear error. */
class VirtualTokenDetectionSuite extends AnyFunSuite {
  private val Logger = "dev.peftembed.pooling.VirtualTokenCount"
  private val source = "the output of /models/graph/model.pt"

  test("an undeclared M is detected from the first batch, logged once, and aligned as a declared one would be") {
    val aligner = MaskAligner.detecting(VirtualTokenPolicy.EXCLUDE, source)
    assert(aligner.virtualTokens == 0 && !aligner.declared)
    val (masks, log) = LogCapture(Logger) {
      Seq(aligner.align(Array(3, 1), 3, 5, 0), aligner.align(Array(4), 4, 6, 0), aligner.align(Array(2, 2), 2, 4, 0))
    }
    assert(log.size == 1, log)
    assert(log.head.contains("detected M = 2") && log.head.contains(source), log.head)
    assert(aligner.virtualTokens == 2)
    val declared = new MaskAligner(2, VirtualTokenPolicy.EXCLUDE, "adapter").align(Array(3, 1), 3, 5, 0)
    assert(masks.head.values.toSeq == declared.values.toSeq && masks.head.clsPosition == 2)
  }

  test("an undeclared M of 0 is detected too: the output is as long as the mask") {
    val aligner = MaskAligner.detecting(VirtualTokenPolicy.INCLUDE, source)
    val (mask, log) = LogCapture(Logger)(aligner.align(Array(3), 3, 3, 0))
    assert(mask.values.toSeq == Seq(1f, 1f, 1f) && log.exists(_.contains("detected M = 0")))
  }

  test("an undeclared M that changes between batches is an error naming both values and the source") {
    val aligner = MaskAligner.detecting(VirtualTokenPolicy.INCLUDE, source)
    aligner.align(Array(5), 5, 9, 0)
    val e = intercept[MaskAlignmentException](aligner.align(Array(7), 7, 10, 0))
    assert(e.getMessage.contains("M = 3 virtual tokens") && e.getMessage.contains("first batch showed M = 4"))
    assert(e.getMessage.contains(source) && !e.getMessage.contains("\n"))
  }

  test("a declared M that the output contradicts is an error naming the declared and the observed M") {
    val e = intercept[MaskAlignmentException] {
      new MaskAligner(4, VirtualTokenPolicy.INCLUDE, "/models/graph/adapter_config.json").align(Array(5), 5, 8, 0)
    }
    assert(e.getMessage.contains("M = 4 virtual tokens declared by /models/graph/adapter_config.json"))
    assert(e.getMessage.contains("the output shows M = 3"))
  }

  test("an output shorter than the mask is a clear error naming both shapes, declared or not") {
    for (aligner <- Seq(MaskAligner.detecting(VirtualTokenPolicy.INCLUDE, source),
      new MaskAligner(0, VirtualTokenPolicy.INCLUDE, "no adapter"))) {
      val e = intercept[MaskAlignmentException](aligner.align(Array(6, 4), 6, 5, 0))
      assert(e.getMessage.contains("token embeddings of shape [2, 5, H]"), e.getMessage)
      assert(e.getMessage.contains("attention mask of shape [2, 6]") && e.getMessage.contains("shorter than the mask"))
      assert(!e.getMessage.contains("expanded size"))
    }
  }

  test("more virtual tokens than any model has is a clear error; a batch of empty texts with many is not") {
    val aligner = MaskAligner.detecting(VirtualTokenPolicy.INCLUDE, source)
    val e = intercept[MaskAlignmentException](aligner.align(Array(2), 2, 2 + 1025, 0))
    assert(e.getMessage.contains("[1, 1027, H]") && e.getMessage.contains("M = 1025 is more than the 1024"))
    // [CLS] [SEP] and 100 virtual tokens: far more positions than the mask, and legitimate.
    assert(aligner.align(Array(2), 2, 102, 0).values.length == 102)
  }

  test("task threads racing on the first batch detect M once; a thread that saw another M fails") {
    val aligner = MaskAligner.detecting(VirtualTokenPolicy.INCLUDE, source)
    val pool = Executors.newFixedThreadPool(8)
    val start = new CountDownLatch(1)
    val (results, log) = LogCapture(Logger) {
      val futures = (0 until 16).map { i =>
        pool.submit(() => { start.await(); Try(aligner.align(Array(3), 3, 3 + (if (i == 15) 5 else 4), 0)) })
      }
      start.countDown()
      futures.map(_.get(30, TimeUnit.SECONDS))
    }
    pool.shutdown()
    assert(log.count(_.contains("detected")) == 1)
    if (aligner.virtualTokens == 4) {
      assert(results.take(15).forall(_.isSuccess) && results(15).isFailure)
    } else {
      assert(results.take(15).forall(_.isFailure) && results(15).isSuccess)
    }
  }
}

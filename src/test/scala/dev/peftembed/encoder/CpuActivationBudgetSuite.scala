package dev.peftembed.encoder

import org.scalatest.funsuite.AnyFunSuite

/** CPU passes keep every activation inside glibc's heap-served sizes, whatever the batch. */
class CpuActivationBudgetSuite extends AnyFunSuite {
  private val glibcMmapCeiling = 32L << 20

  test("the budget leaves room for several blocks under glibc's adaptive mmap ceiling") {
    assert(CpuActivationBudget.BLOCK_BYTES * 4 <= glibcMmapCeiling)
  }

  test("a pass's widest activation fits the budget; a long batch of all-MiniLM-L6-v2 runs in passes of 5 rows") {
    for (length <- Seq(8, 40, 128, 256, 512); widest <- Seq(1152, 1536, 3072, 4096)) {
      val rows = CpuActivationBudget.passRows(length, widest)
      assert(rows >= 1)
      assert(rows == 1 || 4L * rows * length * widest <= CpuActivationBudget.BLOCK_BYTES)
      assert(4L * (rows + 1) * length * widest > CpuActivationBudget.BLOCK_BYTES, "as many rows as fit")
    }
    assert(CpuActivationBudget.passRows(256, 1536) == 5)
  }

  test("a row too large for the budget still gets a pass of its own") {
    assert(CpuActivationBudget.passRows(100000, 100000) == 1)
  }
}

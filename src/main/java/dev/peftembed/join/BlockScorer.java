package dev.peftembed.join;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.peftembed.runtime.DjlRuntime;
import java.nio.ByteOrder;

/**
 * Cosine scores of every row of a left block against every row of a right block, as one libtorch matrix product on
 * the CPU. One scorer serves one task: it owns a small native memory manager, keeps the current left block's matrix
 * while right blocks pass by, and copies each score matrix into one reused Java array, so a task's memory is one
 * block pair's, whatever the table sizes.
 */
final class BlockScorer implements AutoCloseable {
  private final NDManager manager = DjlRuntime.pytorch().newBaseManager(Device.cpu());
  private long leftIndex = Long.MIN_VALUE;
  private NDArray left;
  private float[] scores = new float[0];

  /**
   * @return {@code left.rows() × right.rows()} scores, row-major; the array is reused by the next call
   */
  float[] score(VectorBlock leftBlock, VectorBlock rightBlock) {
    NDArray l = leftMatrix(leftBlock);
    int n = leftBlock.rows() * rightBlock.rows();
    if (scores.length < n) {
      scores = new float[n];
    }
    // Native results attach to the left operand's manager: close them now, not when the task ends.
    try (NDArray r = manager.create(rightBlock.matrix(), new Shape(rightBlock.rows(), rightBlock.dim()));
        NDArray rt = r.transpose();
        NDArray product = l.matMul(rt)) {
      // A direct view of the tensor's memory: one copy into Java, no intermediate array.
      product.toByteBuffer(true).order(ByteOrder.nativeOrder()).asFloatBuffer().get(scores, 0, n);
    }
    return scores;
  }

  private NDArray leftMatrix(VectorBlock block) {
    if (block.index() != leftIndex || left == null) {
      if (left != null) {
        left.close();
      }
      left = manager.create(block.matrix(), new Shape(block.rows(), block.dim()));
      leftIndex = block.index();
    }
    return left;
  }

  @Override
  public void close() {
    manager.close();
  }
}

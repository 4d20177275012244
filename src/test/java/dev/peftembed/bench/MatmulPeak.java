package dev.peftembed.bench;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.SplittableRandom;

/**
 * System f: the fp32 matrix-product throughput of this machine through libtorch, with libtorch's default threads
 * (the same the encoder uses): the ceiling that achieved model GFLOP/s are compared against. One {@link #runOnce}
 * multiplies two {@value #SIZE}² matrices {@value #PRODUCTS} times, large enough that the product is compute-bound.
 */
final class MatmulPeak implements AutoCloseable {
  static final int SIZE = 2048;
  static final int PRODUCTS = 4;

  private final NDManager manager = Engine.getEngine("PyTorch").newBaseManager(Device.cpu());
  private final NDArray left;
  private final NDArray right;

  MatmulPeak() {
    left = manager.create(values(1), new Shape(SIZE, SIZE));
    right = manager.create(values(2), new Shape(SIZE, SIZE));
  }

  /**
   * Uniform values in [-1, 1) from a fixed seed, not torch's RNG (global to the JVM, see PLATFORM.md), and no
   * zeros or denormals that could take a fast path.
   */
  private static float[] values(long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    float[] v = new float[SIZE * SIZE];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) (rng.nextDouble() * 2 - 1);
    }
    return v;
  }

  /** @return seconds for {@value #PRODUCTS} products, each result freed at once */
  double runOnce() {
    long start = System.nanoTime();
    for (int i = 0; i < PRODUCTS; i++) {
      try (NDArray product = left.matMul(right)) {
        // The product is computed eagerly; freeing it at once keeps the run from measuring allocation.
        product.getShape();
      }
    }
    return (System.nanoTime() - start) / 1e9;
  }

  /** @return the FLOPs one {@link #runOnce} performs: 2·n³ per product */
  static double flopsPerRun() {
    return 2.0 * SIZE * SIZE * SIZE * PRODUCTS;
  }

  @Override
  public void close() {
    manager.close();
  }
}

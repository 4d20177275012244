package dev.peftembed.model;

import java.util.Arrays;

/**
 * A dense float tensor read from a checkpoint, in row-major order, widened to float32 whatever its stored dtype.
 *
 * @param name the checkpoint key
 * @param shape the dimensions
 * @param data the values, {@code product(shape)} of them
 */
public record Tensor(String name, long[] shape, float[] data) {

  /** Checks that {@code data} holds exactly {@code product(shape)} values. */
  public Tensor {
    if (data.length != elementCount(shape)) {
      throw new IllegalArgumentException(
          name + ": " + data.length + " values for shape " + Arrays.toString(shape));
    }
  }

  /** @return the product of the dimensions */
  public static long elementCount(long[] shape) {
    long n = 1;
    for (long d : shape) {
      n = Math.multiplyExact(n, d);
    }
    return n;
  }

  /** @return the shape as text, e.g. {@code [384, 1536]} */
  public String shapeText() {
    return Arrays.toString(shape);
  }
}

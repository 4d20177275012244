package dev.peftembed.join;

import java.util.List;

/**
 * Scales vectors to unit length, in plain Java on the executors. (In Spark SQL the norm would be a higher-order
 * function, which the optimizer inlines into the per-element lambda: quadratic in the dimension.)
 */
final class UnitVectors {
  private UnitVectors() {}

  /**
   * @return the vector over its Euclidean norm (summed in double, in element order, as {@link EmbeddingTable} counts
   *     usable vectors), or {@code null} when it has no direction: a null element, all zeros, or not finite
   */
  static float[] unit(List<Float> raw) {
    double norm2 = 0;
    for (Float x : raw) {
      if (x == null) {
        return null;
      }
      norm2 += (double) x * x;
    }
    if (!(norm2 > 0 && norm2 < Double.POSITIVE_INFINITY)) {
      return null;
    }
    double norm = Math.sqrt(norm2);
    float[] unit = new float[raw.size()];
    for (int i = 0; i < unit.length; i++) {
      unit[i] = (float) (raw.get(i) / norm);
    }
    return unit;
  }
}

package dev.peftembed.encoder;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.core.Linear;

/**
 * A {@code torch.nn.Linear}: {@code weight} [out, in] and {@code bias} [out].
 *
 * @param weight [out, in]
 * @param bias [out]
 */
public record LinearWeights(NDArray weight, NDArray bias) {

  /** Reads {@code weight} [out, in] and {@code bias} [out] from the loader's current prefix. */
  public static LinearWeights load(WeightLoader w, int in, int out) {
    return new LinearWeights(w.array("weight", out, in), w.array("bias", out));
  }

  /** Applies x·Wᵀ + b to a 2-D [rows, in] input, which torch runs as one fused addmm. */
  public NDArray forward(NDArray x) {
    return Linear.linear(x, weight, bias).singletonOrThrow();
  }
}

package dev.peftembed.pooling;

import ai.djl.ndarray.NDArray;

/** L2 normalization of each row, as {@code torch.nn.functional.normalize(x, p=2, dim=1)} (norms clamped at 1e-12). */
public final class Normalizer {
  private static final float MIN_NORM = 1e-12f;

  private Normalizer() {}

  /** @return x / max(‖x‖₂, 1e-12) per row of a [B, D] array */
  public static NDArray normalize(NDArray x) {
    try (NDArray norms = x.norm(new int[] {1}, true).maximum(MIN_NORM)) {
      return x.div(norms);
    }
  }
}

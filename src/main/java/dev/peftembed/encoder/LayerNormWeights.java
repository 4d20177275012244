package dev.peftembed.encoder;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.norm.LayerNorm;

/**
 * A {@code torch.nn.LayerNorm} over the last axis.
 *
 * @param gamma {@code weight} [H]
 * @param beta {@code bias} [H]
 * @param eps from config.json's {@code layer_norm_eps}
 */
public record LayerNormWeights(NDArray gamma, NDArray beta, float eps) {

  /** Reads {@code weight} and {@code bias} of one LayerNorm module from the loader's current prefix. */
  public static LayerNormWeights load(WeightLoader w, int hidden, double eps) {
    return new LayerNormWeights(w.array("weight", hidden), w.array("bias", hidden), (float) eps);
  }

  /** Normalises the last dimension of {@code x}, then scales by gamma and shifts by beta. */
  public NDArray forward(NDArray x) {
    return LayerNorm.layerNorm(x, new Shape(gamma.getShape().get(0)), gamma, beta, eps).singletonOrThrow();
  }
}

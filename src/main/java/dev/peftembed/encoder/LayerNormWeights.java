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
record LayerNormWeights(NDArray gamma, NDArray beta, float eps) {

  static LayerNormWeights load(WeightLoader w, int hidden, double eps) {
    return new LayerNormWeights(w.array("weight", hidden), w.array("bias", hidden), (float) eps);
  }

  NDArray forward(NDArray x) {
    return LayerNorm.layerNorm(x, new Shape(gamma.getShape().get(0)), gamma, beta, eps).singletonOrThrow();
  }
}

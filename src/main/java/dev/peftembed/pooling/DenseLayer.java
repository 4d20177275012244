package dev.peftembed.pooling;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Linear;
import dev.peftembed.model.Checkpoint;
import dev.peftembed.model.DenseConfig;

/** sentence-transformers' {@code Dense} module: {@code activation(linear(x))} on the pooled vector. */
public final class DenseLayer {
  private final DenseConfig config;
  private final NDArray weight;
  private final NDArray bias;

  private DenseLayer(DenseConfig config, NDArray weight, NDArray bias) {
    this.config = config;
    this.weight = weight;
    this.bias = bias;
  }

  /**
   * Loads {@code linear.weight} [out, in] (and {@code linear.bias}) from the module's {@code model.safetensors}.
   *
   * @param manager owns the weights for the life of the model
   */
  public static DenseLayer load(DenseConfig config, NDManager manager) {
    Checkpoint weights = Checkpoint.open(config.directory());
    int in = config.inFeatures();
    int out = config.outFeatures();
    NDArray w = manager.create(weights.read("linear.weight", out, in).data(), new Shape(out, in));
    NDArray b = config.bias() ? manager.create(weights.read("linear.bias", out).data(), new Shape(out)) : null;
    return new DenseLayer(config, w, b);
  }

  /** @return [B, out] float32 */
  public NDArray forward(NDArray x) {
    NDArray projected = (bias == null ? Linear.linear(x, weight) : Linear.linear(x, weight, bias)).singletonOrThrow();
    NDArray activated = switch (config.activation()) {
      case IDENTITY -> projected;
      case TANH -> projected.tanh();
      case RELU -> Activation.relu(projected);
      case GELU -> Activation.gelu(projected);
      case SIGMOID -> Activation.sigmoid(projected);
    };
    if (activated != projected) {
      projected.close();
    }
    return activated;
  }
}

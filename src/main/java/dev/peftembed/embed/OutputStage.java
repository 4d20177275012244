package dev.peftembed.embed;

import ai.djl.ndarray.NDArray;
import dev.peftembed.pooling.DenseLayer;
import dev.peftembed.pooling.Normalizer;

/**
 * One step from the pooled vectors to the output vectors: the model's Dense and Normalize modules in modules.json
 * order, then the options' truncation and forced normalization. Each takes and returns a [B, D] float array.
 */
sealed interface OutputStage permits OutputStage.Dense, OutputStage.Normalize, OutputStage.Truncate {

  /**
   * @param x [B, D]; the caller keeps ownership
   * @return the stage's output, or {@code x} itself when the stage leaves it as it is
   */
  NDArray apply(NDArray x);

  /** sentence-transformers' {@code Dense} module. */
  record Dense(DenseLayer layer) implements OutputStage {
    @Override
    public NDArray apply(NDArray x) {
      return layer.forward(x);
    }
  }

  /** L2 normalization: the {@code Normalize} module, or the options' forced unit vectors. */
  record Normalize() implements OutputStage {
    @Override
    public NDArray apply(NDArray x) {
      return Normalizer.normalize(x);
    }
  }

  /** Keeps the first {@code dims} dimensions (Matryoshka); narrower vectors pass unchanged. */
  record Truncate(int dims) implements OutputStage {
    @Override
    public NDArray apply(NDArray x) {
      return dims < x.getShape().get(1) ? x.get(":, :{}", dims) : x;
    }
  }
}

package dev.peftembed.encoder.bert;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Activation;
import dev.peftembed.encoder.LinearWeights;
import dev.peftembed.encoder.WeightLoader;
import dev.peftembed.model.BertConfig;
import dev.peftembed.model.HiddenActivation;

/**
 * {@code intermediate}: the feed-forward expansion and its activation. Other architectures whose feed-forward block
 * is BERT's (MPNet's {@code MPNetIntermediate} is a copy of it) use this class as it is.
 */
public final class BertIntermediate {
  private static final float SQRT_2_OVER_PI = (float) Math.sqrt(2.0 / Math.PI);

  private final LinearWeights dense;
  private final HiddenActivation activation;

  private BertIntermediate(LinearWeights dense, HiddenActivation activation) {
    this.dense = dense;
    this.activation = activation;
  }

  /** Reads {@code dense} from the loader's current prefix. */
  public static BertIntermediate load(WeightLoader w, BertConfig c) {
    return new BertIntermediate(LinearWeights.load(w.at("dense"), c.hiddenSize(), c.intermediateSize()),
        c.activation());
  }

  /** @return act(x·Wᵀ + b), [B·L, intermediate] */
  public NDArray forward(NDArray x) {
    return forward(x, null);
  }

  /** @return act(x·Wᵀ + b), [B·L, intermediate], with an unmerged adapter's term where not null */
  NDArray forward(NDArray x, LowRankTerm term) {
    try (NDArray projected = dense.forward(x)) {
      LowRankTerm.addTo(term, projected, x);
      return activate(projected, activation);
    }
  }

  /** @return a new array holding {@code activation(x)} */
  static NDArray activate(NDArray x, HiddenActivation activation) {
    return switch (activation) {
      case GELU -> Activation.gelu(x);
      case RELU -> Activation.relu(x);
      case GELU_TANH -> geluTanh(x);
    };
  }

  /** 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), as Hugging Face's {@code gelu_new}. */
  private static NDArray geluTanh(NDArray x) {
    NDArray t;
    try (NDArray inner = x.pow(3)) {
      inner.muli(0.044715f).addi(x).muli(SQRT_2_OVER_PI);
      t = inner.tanh();
    }
    return t.addi(1f).muli(x).muli(0.5f);
  }
}

package dev.peftembed.encoder.bert;

import ai.djl.ndarray.NDArray;
import dev.peftembed.encoder.LinearWeights;
import dev.peftembed.encoder.WeightLoader;
import dev.peftembed.model.BertConfig;
import dev.peftembed.model.HiddenActivation;

/** DistilBERT's {@code transformer.layer.N.ffn}: lin2(act(lin1(x))), before the residual. */
final class Ffn {
  private final LinearWeights lin1;
  private final LinearWeights lin2;
  private final HiddenActivation activation;

  private Ffn(LinearWeights lin1, LinearWeights lin2, HiddenActivation activation) {
    this.lin1 = lin1;
    this.lin2 = lin2;
    this.activation = activation;
  }

  static Ffn load(WeightLoader w, BertConfig c) {
    return new Ffn(LinearWeights.load(w.at("lin1"), c.hiddenSize(), c.intermediateSize()),
        LinearWeights.load(w.at("lin2"), c.intermediateSize(), c.hiddenSize()), c.activation());
  }

  /** @return [B·L, H] */
  NDArray forward(NDArray x) {
    try (NDArray expanded = lin1.forward(x); NDArray activated = BertIntermediate.activate(expanded, activation)) {
      return lin2.forward(activated);
    }
  }
}

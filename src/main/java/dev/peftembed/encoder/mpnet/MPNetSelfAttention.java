package dev.peftembed.encoder.mpnet;

import ai.djl.ndarray.NDArray;
import dev.peftembed.encoder.LinearWeights;
import dev.peftembed.encoder.ScaledDotProductAttention;
import dev.peftembed.encoder.WeightLoader;
import dev.peftembed.model.BertConfig;
import dev.peftembed.model.Tensor;

/**
 * {@code attention.attn}: multi-head attention with MPNet's relative position bias, and its output projection
 * {@code o}, which MPNet keeps inside this module where BERT has it in {@code attention.output}.
 *
 * <p>As in BERT's self-attention, q, k and v are fused into one [3H, H] projection with 1/√d folded into the query
 * rows, and libtorch's fused kernel runs the attention. transformers adds the position bias and then the mask to the
 * scaled scores (modeling_mpnet.py, {@code MPNetSelfAttention.forward}); the kernel adds their sum, built once per
 * batch, in one step.
 */
final class MPNetSelfAttention {
  private final LinearWeights qkv;
  private final LinearWeights o;
  private final ScaledDotProductAttention kernel;
  private final int heads;
  private final int headSize;

  private MPNetSelfAttention(LinearWeights qkv, LinearWeights o, ScaledDotProductAttention kernel, int heads,
      int headSize) {
    this.qkv = qkv;
    this.o = o;
    this.kernel = kernel;
    this.heads = heads;
    this.headSize = headSize;
  }

  static MPNetSelfAttention load(WeightLoader w, BertConfig c, ScaledDotProductAttention kernel) {
    int h = c.hiddenSize();
    float scale = (float) (1.0 / Math.sqrt(c.headSize()));
    float[] weight = new float[3 * h * h];
    float[] bias = new float[3 * h];
    String[] projections = {"q", "k", "v"};
    for (int p = 0; p < projections.length; p++) {
      float factor = p == 0 ? scale : 1f;
      Tensor pw = w.at(projections[p]).tensor("weight", h, h);
      Tensor pb = w.at(projections[p]).tensor("bias", h);
      for (int i = 0; i < h * h; i++) {
        weight[p * h * h + i] = pw.data()[i] * factor;
      }
      for (int i = 0; i < h; i++) {
        bias[p * h + i] = pb.data()[i] * factor;
      }
    }
    LinearWeights fused = new LinearWeights(w.toDevice(weight, 3L * h, h), w.toDevice(bias, 3L * h));
    return new MPNetSelfAttention(fused, LinearWeights.load(w.at("o"), h, h), kernel, c.numHeads(), c.headSize());
  }

  /**
   * @param x [B·L, H] hidden states
   * @param bias [B, heads, L, L] position bias plus mask bias
   * @return [B·L, H], the projected context
   */
  NDArray forward(NDArray x, long batch, long length, NDArray bias) {
    try (NDArray projected = qkv.forward(x);
        NDArray split = projected.reshape(batch, length, 3, heads, headSize);
        NDArray perm = split.transpose(2, 0, 3, 1, 4);
        NDArray q = perm.get(0);
        NDArray k = perm.get(1);
        NDArray v = perm.get(2);
        NDArray context = kernel.forward(q, k, v, bias);
        NDArray positionsFirst = context.transpose(0, 2, 1, 3);
        NDArray flat = positionsFirst.reshape(batch * length, (long) heads * headSize)) {
      return o.forward(flat);
    }
  }
}

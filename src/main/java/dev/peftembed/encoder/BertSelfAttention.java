package dev.peftembed.encoder;

import ai.djl.ndarray.NDArray;
import dev.peftembed.model.BertConfig;
import dev.peftembed.model.Tensor;

/**
 * {@code attention.self}: multi-head scaled dot-product attention.
 *
 * <p>Query, key and value are fused into one [3H, H] projection, and 1/√d is folded into the query rows at load
 * time. The attention itself is libtorch's fused kernel ({@link ScaledDotProductAttention}), which reads q, k and v
 * straight from the projection's strided views.
 */
final class BertSelfAttention {
  private final LinearWeights qkv;
  private final ScaledDotProductAttention kernel;
  private final int heads;
  private final int headSize;

  private BertSelfAttention(LinearWeights qkv, ScaledDotProductAttention kernel, int heads, int headSize) {
    this.qkv = qkv;
    this.kernel = kernel;
    this.heads = heads;
    this.headSize = headSize;
  }

  static BertSelfAttention load(WeightLoader w, BertConfig c, ScaledDotProductAttention kernel) {
    int h = c.hiddenSize();
    float scale = (float) (1.0 / Math.sqrt(c.headSize()));
    Tensor qw = w.at("query").tensor("weight", h, h);
    Tensor qb = w.at("query").tensor("bias", h);
    float[] weight = new float[3 * h * h];
    float[] bias = new float[3 * h];
    for (int i = 0; i < qw.data().length; i++) {
      weight[i] = qw.data()[i] * scale;
    }
    for (int i = 0; i < h; i++) {
      bias[i] = qb.data()[i] * scale;
    }
    System.arraycopy(w.at("key").tensor("weight", h, h).data(), 0, weight, h * h, h * h);
    System.arraycopy(w.at("value").tensor("weight", h, h).data(), 0, weight, 2 * h * h, h * h);
    System.arraycopy(w.at("key").tensor("bias", h).data(), 0, bias, h, h);
    System.arraycopy(w.at("value").tensor("bias", h).data(), 0, bias, 2 * h, h);
    LinearWeights fused = new LinearWeights(w.toDevice(weight, 3L * h, h), w.toDevice(bias, 3L * h));
    return new BertSelfAttention(fused, kernel, c.numHeads(), c.headSize());
  }

  /**
   * @param x [B·L, H] hidden states
   * @param maskBias [B, 1, 1, L]: 0 where attended, the dtype's minimum where not
   * @return [B·L, H] context vectors
   */
  NDArray forward(NDArray x, long batch, long length, NDArray maskBias) {
    try (NDArray projected = qkv.forward(x);
        NDArray split = projected.reshape(batch, length, 3, heads, headSize);
        NDArray perm = split.transpose(2, 0, 3, 1, 4);
        NDArray q = perm.get(0);
        NDArray k = perm.get(1);
        NDArray v = perm.get(2);
        NDArray context = kernel.forward(q, k, v, maskBias);
        NDArray positionsFirst = context.transpose(0, 2, 1, 3)) {
      return positionsFirst.reshape(batch * length, (long) heads * headSize);
    }
  }
}

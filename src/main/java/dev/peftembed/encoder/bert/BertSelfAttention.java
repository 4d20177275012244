package dev.peftembed.encoder.bert;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import dev.peftembed.encoder.LinearWeights;
import dev.peftembed.encoder.ScaledDotProductAttention;
import dev.peftembed.encoder.WeightLoader;
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
    return fuse(w.at("query"), w.at("key"), w.at("value"), c, kernel);
  }

  /**
   * Fuses three [H, H] projections, each read from its own module, into one; DistilBERT's {@code q_lin},
   * {@code k_lin} and {@code v_lin} are BERT's query, key and value under other names.
   */
  static BertSelfAttention fuse(WeightLoader query, WeightLoader key, WeightLoader value, BertConfig c,
      ScaledDotProductAttention kernel) {
    int h = c.hiddenSize();
    float scale = (float) (1.0 / Math.sqrt(c.headSize()));
    Tensor qw = query.tensor("weight", h, h);
    Tensor qb = query.tensor("bias", h);
    float[] weight = new float[3 * h * h];
    float[] bias = new float[3 * h];
    for (int i = 0; i < qw.data().length; i++) {
      weight[i] = qw.data()[i] * scale;
    }
    for (int i = 0; i < h; i++) {
      bias[i] = qb.data()[i] * scale;
    }
    System.arraycopy(key.tensor("weight", h, h).data(), 0, weight, h * h, h * h);
    System.arraycopy(value.tensor("weight", h, h).data(), 0, weight, 2 * h * h, h * h);
    System.arraycopy(key.tensor("bias", h).data(), 0, bias, h, h);
    System.arraycopy(value.tensor("bias", h).data(), 0, bias, 2 * h, h);
    LinearWeights fused = new LinearWeights(query.toDevice(weight, 3L * h, h), query.toDevice(bias, 3L * h));
    return new BertSelfAttention(fused, kernel, c.numHeads(), c.headSize());
  }

  /**
   * @param x [B·L, H] hidden states
   * @param term an unmerged adapter's term of the fused projection, or {@code null}
   * @return [B·L, H] context vectors
   */
  NDArray forward(NDArray x, AttentionInputs in, LowRankTerm term) {
    long batch = in.batch();
    long length = in.length();
    NDArray projected = qkv.forward(x);
    LowRankTerm.addTo(term, projected, x);
    try (projected;
        NDArray split = projected.reshape(batch, length, 3, heads, headSize);
        NDArray perm = split.transpose(2, 0, 3, 1, 4);
        NDArray q = perm.get(0);
        NDArray k = withPrefix(perm.get(1), in.prefixKey(), batch);
        NDArray v = withPrefix(perm.get(2), in.prefixValue(), batch);
        NDArray context = kernel.forward(q, k, v, in.maskBias());
        NDArray positionsFirst = context.transpose(0, 2, 1, 3)) {
      return positionsFirst.reshape(batch * length, (long) heads * headSize);
    }
  }

  /** Places a prefix's [1, heads, P, d] keys or values before a batch's own [B, heads, L, d]; consumes {@code own}. */
  private static NDArray withPrefix(NDArray own, NDArray prefix, long batch) {
    if (prefix == null) {
      return own;
    }
    Shape shape = prefix.getShape();
    try (own; NDArray rows = prefix.broadcast(batch, shape.get(1), shape.get(2), shape.get(3))) {
      rows.attach(own.getManager());
      return NDArrays.concat(new NDList(rows, own), 2);
    }
  }
}

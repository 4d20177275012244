package dev.peftembed.encoder;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import dev.peftembed.model.BertConfig;
import dev.peftembed.model.Tensor;

/**
 * {@code attention.self}: multi-head scaled dot-product attention.
 *
 * <p>Query, key and value are fused into one [3H, H] projection, and 1/√d is folded into the query rows at load
 * time: both avoid allocating extra tensors of the [B, heads, L, L] score size, which dominate memory traffic.
 */
final class BertSelfAttention {
  private final LinearWeights qkv;
  private final int heads;
  private final int headSize;

  private BertSelfAttention(LinearWeights qkv, int heads, int headSize) {
    this.qkv = qkv;
    this.heads = heads;
    this.headSize = headSize;
  }

  static BertSelfAttention load(WeightLoader w, BertConfig c) {
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
    return new BertSelfAttention(fused, c.numHeads(), c.headSize());
  }

  /**
   * @param x [B·L, H] hidden states
   * @param maskBias [B, 1, 1, L]: 0 where attended, the dtype's minimum where not
   * @return [B·L, H] context vectors
   */
  NDArray forward(NDArray x, long batch, long length, NDArray maskBias) {
    // A GPU attends the whole batch at once: small chunks would only multiply kernel launches.
    long chunk = x.getDevice().isGpu() ? batch : CpuActivationBudget.attentionRows(heads, length);
    try (NDArray projected = qkv.forward(x);
        NDArray split = projected.reshape(batch, length, 3, heads, headSize)) {
      if (chunk >= batch) {
        try (NDArray context = attend(split, maskBias)) {
          return context.reshape(batch * length, (long) heads * headSize);
        }
      }
      NDList parts = new NDList();
      try {
        for (long from = 0; from < batch; from += chunk) {
          NDIndex rows = new NDIndex("{}:{}", from, Math.min(batch, from + chunk));
          try (NDArray part = split.get(rows); NDArray bias = maskBias.get(rows)) {
            parts.add(attend(part, bias));
          }
        }
        try (NDArray context = NDArrays.concat(parts, 0)) {
          return context.reshape(batch * length, (long) heads * headSize);
        }
      } finally {
        parts.close();
      }
    }
  }

  /**
   * @param split [b, L, 3, heads, d] view of the fused projection
   * @param maskBias [b, 1, 1, L]
   * @return [b, L, heads, d] context, a strided view that the caller's reshape or concat makes contiguous once
   */
  private NDArray attend(NDArray split, NDArray maskBias) {
    NDArray q;
    NDArray k;
    NDArray v;
    try (NDArray perm = split.transpose(2, 0, 3, 1, 4)) {
      q = perm.get(0);
      k = perm.get(1).transpose(0, 1, 3, 2);
      v = perm.get(2);
    }
    NDArray probs;
    try (NDArray scores = q.matMul(k)) {
      q.close();
      k.close();
      scores.addi(maskBias);
      probs = scores.softmax(-1);
    }
    try (NDArray context = probs.matMul(v)) {
      probs.close();
      v.close();
      return context.transpose(0, 2, 1, 3);
    }
  }
}

package dev.peftembed.peft;

import dev.peftembed.model.Tensor;
import java.util.Arrays;

/**
 * The low-rank term of one adapted linear module, PEFT's {@code lora.Linear} at inference
 * (peft/tuners/lora/layer.py:1058): {@code y = base(x) + lora_B(lora_A(x))·scale}, that is
 * y = xWᵀ + b + scale·((xAᵀ)Bᵀ + b_B), with b_B only under {@code lora_bias} (layer.py:260).
 *
 * <p>Kept apart from the base weights so that it can be merged once at load ({@link #weightDelta}) or applied
 * unmerged to the rows of one adapter in a batch of many.
 *
 * @param module the Hugging Face module name, e.g. {@code encoder.layer.0.attention.self.query}
 * @param a {@code lora_A.weight}, [r, in]
 * @param b {@code lora_B.weight}, [out, r]
 * @param bBias {@code lora_B.bias}, [out], or {@code null}
 * @param scale lora_alpha/r or lora_alpha/√r, after rank_pattern and alpha_pattern
 */
public record LoraModule(String module, Tensor a, Tensor b, Tensor bBias, double scale) {

  /** @return r, this module's rank */
  public int rank() {
    return (int) a.shape()[0];
  }

  /**
   * @return scale·B·A, [out, in] row-major: what merging adds to the base weight (PEFT's
   *     {@code get_delta_weight}, layer.py:1000-1023), each element summed in double and rounded once
   */
  public float[] weightDelta() {
    int r = rank();
    int in = (int) a.shape()[1];
    int out = (int) b.shape()[0];
    float[] av = a.data();
    float[] bv = b.data();
    float[] delta = new float[out * in];
    double[] row = new double[in];
    for (int o = 0; o < out; o++) {
      Arrays.fill(row, 0.0);
      for (int k = 0; k < r; k++) {
        double bk = bv[o * r + k];
        for (int i = 0; i < in; i++) {
          row[i] += bk * av[k * in + i];
        }
      }
      for (int i = 0; i < in; i++) {
        delta[o * in + i] = (float) (scale * row[i]);
      }
    }
    return delta;
  }

  /** @return scale·b_B, [out], or {@code null} without a LoRA bias */
  public float[] biasDelta() {
    if (bBias == null) {
      return null;
    }
    float[] out = new float[bBias.data().length];
    for (int o = 0; o < out.length; o++) {
      out[o] = (float) (scale * bBias.data()[o]);
    }
    return out;
  }
}

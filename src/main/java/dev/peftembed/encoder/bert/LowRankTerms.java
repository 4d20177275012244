package dev.peftembed.encoder.bert;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.peftembed.encoder.LowRankUpdate;
import dev.peftembed.encoder.WeightDelta;
import dev.peftembed.encoder.WeightLoader;
import dev.peftembed.model.BertConfig;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * An adapter's {@link WeightDelta} laid out for {@link BertModel#forward}: per layer, the low-rank terms of the
 * modules it adapts, applied to the rows of that adapter only, so that any number of adapters share one base model.
 *
 * <p>The base model fuses query, key and value into one [3H, H] projection and folds 1/√d into its query rows. The
 * three terms are fused the same way: their A matrices stacked into one [rq+rk+rv, H], their B matrices placed
 * block-diagonally into the rows of their own projection, the query block times 1/√d, as its bias shift. So each
 * term lands in the rows, and with the scale, that merging it into the weight would give.
 */
public final class LowRankTerms {
  private static final String[] QKV = {"query", "key", "value"};

  private final NDArray embeddingsShift;
  private final LayerTerms[] layers;

  private LowRankTerms(NDArray embeddingsShift, LayerTerms[] layers) {
    this.embeddingsShift = embeddingsShift;
    this.layers = layers;
  }

  /**
   * Places an adapter's delta on the device.
   *
   * @param manager the base model's manager: the terms live as long as the model
   * @param dtype the model's compute dtype
   * @param config the base model
   * @throws IllegalArgumentException if the delta names a module or bias that no term here applies
   */
  public static LowRankTerms load(NDManager manager, DataType dtype, BertConfig config, WeightDelta delta) {
    Builder b = new Builder(manager, dtype, config, delta);
    LayerTerms[] layers = new LayerTerms[config.numLayers()];
    for (int l = 0; l < layers.length; l++) {
      String p = "encoder.layer." + l + ".";
      layers[l] = new LayerTerms(b.qkv(p + "attention.self."), b.linear(p + "attention.output.dense"),
          b.linear(p + "intermediate.dense"), b.linear(p + "output.dense"),
          b.shift(p + "attention.output.LayerNorm.bias"), b.shift(p + "output.LayerNorm.bias"));
    }
    NDArray embeddings = b.shift("embeddings.LayerNorm.bias");
    b.checkAllUsed();
    return new LowRankTerms(embeddings, layers);
  }

  NDArray embeddingsShift() {
    return embeddingsShift;
  }

  LayerTerms layer(int index) {
    return layers[index];
  }

  /** Turns the heap delta into device arrays, remembering which entries it used. */
  private static final class Builder {
    private final NDManager manager;
    private final DataType dtype;
    private final BertConfig config;
    private final Map<String, LowRankUpdate> lowRank;
    private final Map<String, float[]> shifts;
    private final Set<String> used = new HashSet<>();

    Builder(NDManager manager, DataType dtype, BertConfig config, WeightDelta delta) {
      this.manager = manager;
      this.dtype = dtype;
      this.config = config;
      this.lowRank = delta.lowRank();
      this.shifts = delta.biasShifts();
    }

    LowRankTerm linear(String module) {
      LowRankUpdate u = take(lowRank, module);
      float[] shift = take(shifts, module + ".bias");
      if (u == null && shift == null) {
        return null;
      }
      NDArray aT = null;
      NDArray bT = null;
      if (u != null) {
        int r = (int) u.a().shape()[0];
        int in = (int) u.a().shape()[1];
        int out = (int) u.b().shape()[0];
        aT = device(transpose(u.a().data(), r, in, 1.0), in, r);
        bT = device(transpose(u.b().data(), out, r, u.scale()), r, out);
      }
      return new LowRankTerm(aT, bT, shift == null ? null : device(shift, shift.length));
    }

    /** The fused projection's term: see the class comment. */
    LowRankTerm qkv(String prefix) {
      int h = config.hiddenSize();
      double fold = 1.0 / Math.sqrt(config.headSize());
      LowRankUpdate[] parts = new LowRankUpdate[3];
      float[] shift = null;
      int rank = 0;
      for (int i = 0; i < 3; i++) {
        parts[i] = take(lowRank, prefix + QKV[i]);
        rank += parts[i] == null ? 0 : (int) parts[i].a().shape()[0];
        float[] s = take(shifts, prefix + QKV[i] + ".bias");
        if (s != null) {
          shift = shift == null ? new float[3 * h] : shift;
          double f = i == 0 ? fold : 1.0;
          for (int o = 0; o < h; o++) {
            shift[i * h + o] = (float) (s[o] * f);
          }
        }
      }
      if (rank == 0 && shift == null) {
        return null;
      }
      NDArray aT = null;
      NDArray bT = null;
      if (rank > 0) {
        float[] at = new float[h * rank];
        float[] bt = new float[rank * 3 * h];
        int from = 0;
        for (int i = 0; i < 3; i++) {
          LowRankUpdate u = parts[i];
          if (u == null) {
            continue;
          }
          int r = (int) u.a().shape()[0];
          float[] a = u.a().data();
          float[] bw = u.b().data();
          double s = u.scale() * (i == 0 ? fold : 1.0);
          for (int k = 0; k < r; k++) {
            for (int c = 0; c < h; c++) {
              at[c * rank + from + k] = a[k * h + c];
            }
            for (int o = 0; o < h; o++) {
              bt[(from + k) * 3 * h + i * h + o] = (float) (bw[o * r + k] * s);
            }
          }
          from += r;
        }
        aT = device(at, h, rank);
        bT = device(bt, rank, 3L * h);
      }
      return new LowRankTerm(aT, bT, shift == null ? null : device(shift, 3L * h));
    }

    NDArray shift(String parameter) {
      float[] s = take(shifts, parameter);
      return s == null ? null : device(s, s.length);
    }

    void checkAllUsed() {
      for (String name : lowRank.keySet()) {
        if (!used.contains(name) && !name.startsWith("pooler.")) {
          throw new IllegalArgumentException("no unmerged term applies to module " + name);
        }
      }
      for (String name : shifts.keySet()) {
        if (!used.contains(name) && !name.startsWith("pooler.")) {
          throw new IllegalArgumentException("no unmerged term applies to bias " + name);
        }
      }
    }

    private <T> T take(Map<String, T> map, String key) {
      T value = map.get(key);
      if (value != null) {
        used.add(key);
      }
      return value;
    }

    private NDArray device(float[] values, long... shape) {
      return WeightLoader.toDevice(manager, dtype, values, shape);
    }

    /** @return factor·Mᵀ of a [rows, cols] row-major matrix, [cols, rows] row-major */
    private static float[] transpose(float[] m, int rows, int cols, double factor) {
      float[] t = new float[m.length];
      for (int i = 0; i < rows; i++) {
        for (int j = 0; j < cols; j++) {
          t[j * rows + i] = (float) (m[i * cols + j] * factor);
        }
      }
      return t;
    }
  }
}

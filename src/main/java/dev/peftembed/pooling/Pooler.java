package dev.peftembed.pooling;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.List;

/**
 * sentence-transformers' {@code Pooling} module: one or more modes over the token embeddings, concatenated in
 * {@link PoolingMode} order. The numerics follow sentence-transformers exactly (mask sums clamped at 1e-9, masked
 * positions set to -1e9 for max), so that vectors match to float precision.
 */
public final class Pooler {
  private static final float MIN_MASK_SUM = 1e-9f;
  private static final float MASKED_MAX = -1e9f;

  private final List<PoolingMode> modes;

  /** @param modes the enabled modes, in concatenation order */
  public Pooler(List<PoolingMode> modes) {
    if (modes.isEmpty()) {
      throw new IllegalArgumentException("at least one pooling mode is required");
    }
    this.modes = List.copyOf(modes);
  }

  /**
   * @param tokens [B, L, H] token embeddings
   * @param mask the aligned pooling mask, exactly L long
   * @return [B, H × modes] float32, allocated from {@code tokens}' manager
   */
  public NDArray pool(NDArray tokens, AlignedMask mask) {
    Shape shape = tokens.getShape();
    long batch = shape.get(0);
    long length = shape.get(1);
    long hidden = shape.get(2);
    if (batch != mask.batch() || length != mask.length()) {
      throw new IllegalArgumentException("pooling mask is [" + mask.batch() + ", " + mask.length()
          + "] but the token embeddings are " + shape);
    }
    NDManager m = tokens.getManager();
    NDList parts = new NDList(modes.size());
    try (NDArray x = tokens.toType(DataType.FLOAT32, true);
        NDArray m2 = m.create(mask.values(), new Shape(batch, length));
        NDArray m3 = m2.reshape(batch, length, 1)) {
      for (PoolingMode mode : modes) {
        parts.add(switch (mode) {
          case CLS -> x.get(":, {}, :", mask.clsPosition());
          case MAX -> max(x, m3);
          case MEAN -> mean(x, m3, false);
          case MEAN_SQRT_LEN -> mean(x, m3, true);
          case WEIGHTED_MEAN -> weightedMean(x, m3, length);
          case LAST_TOKEN -> lastToken(x, mask, batch, length, hidden);
        });
      }
    }
    if (parts.size() == 1) {
      return parts.singletonOrThrow();
    }
    try (parts) {
      return NDArrays.concat(parts, 1);
    }
  }

  private static NDArray max(NDArray x, NDArray m3) {
    // x·mask + (1 − mask)·(−1e9) sets masked positions to exactly −1e9 and leaves attended ones exact.
    try (NDArray kept = x.mul(m3); NDArray fill = m3.neg().addi(1f).muli(MASKED_MAX)) {
      kept.addi(fill);
      return kept.max(new int[] {1});
    }
  }

  private static NDArray mean(NDArray x, NDArray m3, boolean sqrtLength) {
    try (NDArray weighted = x.mul(m3); NDArray sum = weighted.sum(new int[] {1});
        NDArray count = m3.sum(new int[] {1}).maximum(MIN_MASK_SUM)) {
      if (sqrtLength) {
        try (NDArray root = count.sqrt()) {
          return sum.div(root);
        }
      }
      return sum.div(count);
    }
  }

  private static NDArray weightedMean(NDArray x, NDArray m3, long length) {
    NDManager m = x.getManager();
    try (NDArray positions = m.arange(1f, length + 1f).reshape(1, length, 1);
        NDArray w = m3.mul(positions);
        NDArray weighted = x.mul(w);
        NDArray sum = weighted.sum(new int[] {1});
        NDArray total = w.sum(new int[] {1}).maximum(MIN_MASK_SUM)) {
      return sum.div(total);
    }
  }

  private static NDArray lastToken(NDArray x, AlignedMask mask, long batch, long length, long hidden) {
    long[] flatIndex = new long[(int) batch];
    for (int b = 0; b < batch; b++) {
      flatIndex[b] = b * length + mask.lastPositions()[b];
    }
    NDManager m = x.getManager();
    try (NDArray rows = x.reshape(batch * length, hidden); NDArray index = m.create(flatIndex);
        NDArray picked = rows.get(index);
        NDArray attended = m.create(lastMaskValues(mask)).reshape(batch, 1)) {
      // A row with nothing attended pools to zeros, as sentence-transformers' gather of mask·x gives.
      return picked.mul(attended);
    }
  }

  private static float[] lastMaskValues(AlignedMask mask) {
    float[] v = new float[mask.batch()];
    for (int b = 0; b < v.length; b++) {
      v[b] = mask.values()[b * mask.length() + mask.lastPositions()[b]];
    }
    return v;
  }
}

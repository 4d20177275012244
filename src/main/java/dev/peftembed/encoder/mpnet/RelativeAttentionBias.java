package dev.peftembed.encoder.mpnet;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import dev.peftembed.encoder.WeightLoader;
import dev.peftembed.model.BertConfig;

/**
 * {@code encoder.relative_attention_bias}: MPNet's learned per-head bias of each query–key distance, bucketed.
 *
 * <p>transformers builds it once per forward pass over the hidden states' own positions 0..L−1 (modeling_mpnet.py,
 * {@code MPNetEncoder.compute_position_bias}, called without position ids), so virtual tokens that prompt tuning
 * prepends are numbered with the real ones and padding changes nothing: the bias of a batch depends on its length
 * alone. The bucket of a distance follows {@code MPNetEncoder.relative_position_bucket} with its defaults, 32 buckets
 * and max distance 128, which transformers uses whatever the config says.
 */
public final class RelativeAttentionBias {
  /** The bucket count transformers computes with ({@code compute_position_bias}'s default). */
  public static final int BUCKETS = BertConfig.MPNET_RELATIVE_BUCKETS;
  private static final int MAX_DISTANCE = 128;

  /** The [buckets, heads] table transposed and flattened: head h's bucket b at h·32 + b. */
  private final NDArray byHead;
  private final int heads;

  private RelativeAttentionBias(NDArray byHead, int heads) {
    this.byHead = byHead;
    this.heads = heads;
  }

  static RelativeAttentionBias load(WeightLoader w, BertConfig c) {
    int heads = c.numHeads();
    float[] stored = w.tensor("weight", BUCKETS, heads).data();
    float[] byHead = new float[stored.length];
    for (int b = 0; b < BUCKETS; b++) {
      for (int h = 0; h < heads; h++) {
        byHead[h * BUCKETS + b] = stored[b * heads + h];
      }
    }
    return new RelativeAttentionBias(w.toDevice(byHead, (long) heads * BUCKETS), heads);
  }

  /**
   * The bucket of one distance. Directions get separate halves: keys before the query take 0–15, keys after it
   * 16–31. Within a half, distances below 8 are exact and longer ones are spaced logarithmically up to 128, beyond
   * which all share the last bucket. Computed in double precision; the fixture's reference checks it against
   * transformers' float32 arithmetic at every distance up to 600, past which the bucket no longer changes.
   *
   * @param relative key position minus query position
   * @return the bucket, 0 to 31
   */
  public static int bucket(long relative) {
    int half = BUCKETS / 2;
    long n = -relative;
    int ret = n < 0 ? half : 0;
    n = Math.abs(n);
    int maxExact = half / 2;
    if (n < maxExact) {
      return ret + (int) n;
    }
    double scaled = Math.log((double) n / maxExact) / Math.log((double) MAX_DISTANCE / maxExact)
        * (half - maxExact);
    return ret + (int) Math.min(maxExact + (long) scaled, half - 1);
  }

  /**
   * Gathers the bias straight into [heads, L, L] order. Permuting a gathered [L, L, heads] instead would leave the
   * heads innermost in memory, and the fused attention kernel, reading the bias row by row, runs several times slower
   * on such a layout.
   *
   * @param manager where the result is allocated: the batch's
   * @param length positions per row, virtual tokens included
   * @return [1, heads, L, L] in the model dtype, contiguous: the bias of query i and key j at [0, h, i, j]
   */
  NDArray forLength(NDManager manager, long length) {
    long[] byDistance = new long[(int) (2 * length - 1)];
    for (int d = 0; d < byDistance.length; d++) {
      byDistance[d] = bucket(d - (length - 1));
    }
    try (NDArray buckets = manager.create(byDistance);
        NDArray positions = manager.arange(0, (int) length, 1, DataType.INT64);
        NDArray keys = positions.expandDims(0);
        NDArray queries = positions.expandDims(1);
        NDArray distance = keys.sub(queries).addi(length - 1);
        NDArray bucketOf = buckets.get(new NDIndex("{}", distance));
        NDArray oneHead = bucketOf.expandDims(0);
        NDArray headStarts = manager.arange(0, heads * BUCKETS, BUCKETS, DataType.INT64).reshape(heads, 1, 1);
        NDArray index = oneHead.add(headStarts);
        NDArray values = byHead.get(manager, new NDIndex("{}", index))) {
      return values.expandDims(0);
    }
  }
}

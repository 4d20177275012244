package dev.peftembed.pooling;

/**
 * The six pooling modes of sentence-transformers, declared in the order its {@code Pooling} module concatenates
 * them when several are enabled.
 */
public enum PoolingMode {
  /** The vector at the [CLS] position. */
  CLS("pooling_mode_cls_token"),
  /** Element-wise maximum over attended positions (others set to -1e9). */
  MAX("pooling_mode_max_tokens"),
  /** Mean over attended positions. */
  MEAN("pooling_mode_mean_tokens"),
  /** Sum over attended positions divided by the square root of their count. */
  MEAN_SQRT_LEN("pooling_mode_mean_sqrt_len_tokens"),
  /** Mean weighted by position (1..L). */
  WEIGHTED_MEAN("pooling_mode_weightedmean_tokens"),
  /** The last attended position. */
  LAST_TOKEN("pooling_mode_lasttoken");

  private final String configKey;

  PoolingMode(String configKey) {
    this.configKey = configKey;
  }

  /** @return the boolean key in {@code 1_Pooling/config.json} */
  public String configKey() {
    return configKey;
  }
}

package dev.peftembed.onnx;

import dev.peftembed.pooling.PoolingMode;
import java.util.List;

/**
 * How {@link BertOnnxImporter} lays out the sentence-transformers model around the imported encoder.
 *
 * @param pooling the pooling mode, one of {@link #POOLING_MODES}
 * @param normalize whether to append a {@code Normalize} module, making embeddings unit length
 * @param maxSeqLength the {@code max_seq_length} in {@code sentence_bert_config.json}; longer inputs are truncated
 * @param numAttentionHeads the number of attention heads, or null to derive it from the graph
 */
public record ImportOptions(String pooling, boolean normalize, int maxSeqLength, Integer numAttentionHeads) {

  /** The pooling modes sentence-transformers knows, by the names its {@code Pooling} module uses. */
  public static final List<String> POOLING_MODES =
      List.of("cls", "mean", "max", "mean_sqrt_len", "weightedmean", "lasttoken");

  /** Rejects unknown pooling modes and non-positive sizes. */
  public ImportOptions {
    if (!POOLING_MODES.contains(pooling)) {
      throw new IllegalArgumentException("unknown pooling mode '" + pooling + "', expected one of " + POOLING_MODES);
    }
    if (maxSeqLength <= 0) {
      throw new IllegalArgumentException("max sequence length must be positive, got " + maxSeqLength);
    }
    if (numAttentionHeads != null && numAttentionHeads <= 0) {
      throw new IllegalArgumentException("number of attention heads must be positive, got " + numAttentionHeads);
    }
  }

  /** @return the pooling mode that {@link #pooling} names */
  public PoolingMode poolingMode() {
    return switch (pooling) {
      case "cls" -> PoolingMode.CLS;
      case "mean" -> PoolingMode.MEAN;
      case "max" -> PoolingMode.MAX;
      case "mean_sqrt_len" -> PoolingMode.MEAN_SQRT_LEN;
      case "weightedmean" -> PoolingMode.WEIGHTED_MEAN;
      case "lasttoken" -> PoolingMode.LAST_TOKEN;
      default -> throw new IllegalStateException("unreachable: the constructor checks " + pooling);
    };
  }

  /** @return mean pooling, normalized, 256 tokens, heads derived from the graph */
  public static ImportOptions defaults() {
    return new ImportOptions("mean", true, 256, null);
  }
}

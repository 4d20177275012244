package dev.peftembed.embed;

import dev.peftembed.pooling.VirtualTokenPolicy;
import java.io.Serializable;

/**
 * How to encode: everything that is not read from the model or adapter directories. Immutable; the {@code with*}
 * methods return modified copies. The defaults are {@link EncoderDefaults}'s.
 *
 * @param virtualTokens whether prompt-tuning virtual tokens take part in pooling
 * @param batchSize the most rows per forward pass
 * @param maxBatchTokens the most padded positions per forward pass
 * @param maxSeqLength a real-token limit below the model's own, or {@code null}
 * @param prompt a literal text prompt to prepend ({@code ""}: none at all), or {@code null} for the model's default
 * @param promptName a prompt of {@code config_sentence_transformers.json} to prepend, or {@code null}
 * @param normalize whether to follow the model's Normalize module, force unit vectors at the very end (after
 *     truncation), or skip the module
 * @param truncateDim keep only the first dimensions (Matryoshka), or {@code null}
 * @param device where the model runs
 * @param dtype the model's precision
 */
public record EncoderOptions(
    VirtualTokenPolicy virtualTokens,
    int batchSize,
    int maxBatchTokens,
    Integer maxSeqLength,
    String prompt,
    String promptName,
    Normalization normalize,
    Integer truncateDim,
    DeviceChoice device,
    Precision dtype) implements Serializable {

  /** The smallest batch size. */
  public static final int MIN_BATCH_SIZE = 1;

  /** The smallest token budget per batch. */
  public static final int MIN_BATCH_TOKENS = 1;

  /** The smallest real-token limit: [CLS] and [SEP]. */
  public static final int MIN_SEQ_LENGTH = 2;

  /** The fewest dimensions to keep. */
  public static final int MIN_TRUNCATE_DIM = 1;

  /** @return the defaults of {@link EncoderDefaults}: the model's own settings, 64 rows or 16384 positions a batch */
  public static EncoderOptions defaults() {
    return new EncoderOptions(VirtualTokenPolicy.parse(EncoderDefaults.VIRTUAL_TOKENS),
        Integer.parseInt(EncoderDefaults.BATCH_SIZE), Integer.parseInt(EncoderDefaults.MAX_BATCH_TOKENS),
        noneIfZero(Integer.parseInt(EncoderDefaults.MAX_SEQ_LENGTH)), null, null,
        Normalization.parse(EncoderDefaults.NORMALIZE), noneIfZero(Integer.parseInt(EncoderDefaults.TRUNCATE_DIM)),
        DeviceChoice.parse(EncoderDefaults.DEVICE), Precision.parse(EncoderDefaults.DTYPE));
  }

  /** Checks ranges, so that a bad option fails before any model is loaded. */
  public EncoderOptions {
    if (virtualTokens == null) {
      throw new IllegalArgumentException("virtual tokens policy must be " + VirtualTokenPolicy.ALLOWED);
    }
    if (batchSize < MIN_BATCH_SIZE) {
      throw new IllegalArgumentException("batch size must be at least " + MIN_BATCH_SIZE + ", got " + batchSize);
    }
    if (maxBatchTokens < MIN_BATCH_TOKENS) {
      throw new IllegalArgumentException("max batch tokens must be at least " + MIN_BATCH_TOKENS + ", got "
          + maxBatchTokens);
    }
    if (maxSeqLength != null && maxSeqLength < MIN_SEQ_LENGTH) {
      throw new IllegalArgumentException("max sequence length must be at least " + MIN_SEQ_LENGTH
          + " ([CLS] and [SEP]), got " + maxSeqLength);
    }
    if (truncateDim != null && truncateDim < MIN_TRUNCATE_DIM) {
      throw new IllegalArgumentException("truncate dim must be at least " + MIN_TRUNCATE_DIM + ", got "
          + truncateDim);
    }
    if (prompt != null && promptName != null) {
      throw new IllegalArgumentException("give either a prompt or a prompt name, not both");
    }
    if (normalize == null) {
      throw new IllegalArgumentException("normalize must be " + Normalization.ALLOWED);
    }
    if (device == null) {
      throw new IllegalArgumentException("device must be " + DeviceChoice.ALLOWED);
    }
    if (dtype == null) {
      throw new IllegalArgumentException("dtype must be " + Precision.ALLOWED);
    }
  }

  /**
   * @param value a limit where 0 means "none", as the command line and the Spark stage write it
   * @return the limit, or {@code null} for 0
   */
  public static Integer noneIfZero(int value) {
    return value == 0 ? null : value;
  }

  /** @return a copy with another virtual-token policy */
  public EncoderOptions withVirtualTokens(VirtualTokenPolicy v) {
    return new EncoderOptions(v, batchSize, maxBatchTokens, maxSeqLength, prompt, promptName, normalize,
        truncateDim, device, dtype);
  }

  /** @return a copy with other batch limits */
  public EncoderOptions withBatching(int rows, int tokens) {
    return new EncoderOptions(virtualTokens, rows, tokens, maxSeqLength, prompt, promptName, normalize,
        truncateDim, device, dtype);
  }

  /** @return a copy with another real-token limit ({@code null}: the model's) */
  public EncoderOptions withMaxSeqLength(Integer n) {
    return new EncoderOptions(virtualTokens, batchSize, maxBatchTokens, n, prompt, promptName, normalize,
        truncateDim, device, dtype);
  }

  /** @return a copy with a literal prompt and/or a named one */
  public EncoderOptions withPrompt(String text, String name) {
    return new EncoderOptions(virtualTokens, batchSize, maxBatchTokens, maxSeqLength, text, name, normalize,
        truncateDim, device, dtype);
  }

  /** @return a copy with other output post-processing ({@code dims} {@code null}: every dimension) */
  public EncoderOptions withOutput(Normalization normalization, Integer dims) {
    return new EncoderOptions(virtualTokens, batchSize, maxBatchTokens, maxSeqLength, prompt, promptName,
        normalization, dims, device, dtype);
  }

  /** @return a copy for another device and precision */
  public EncoderOptions withDevice(DeviceChoice where, Precision precision) {
    return new EncoderOptions(virtualTokens, batchSize, maxBatchTokens, maxSeqLength, prompt, promptName, normalize,
        truncateDim, where, precision);
  }

  /**
   * @param where {@code auto}, {@code cpu}, {@code gpu} or {@code gpu:N}, as the command line spells it
   * @param precision {@code float32} or {@code float16}
   * @return a copy for another device and precision
   * @throws IllegalArgumentException naming the accepted values
   */
  public EncoderOptions withDevice(String where, String precision) {
    return withDevice(DeviceChoice.parse(where), Precision.parse(precision));
  }
}

package dev.peftembed.embed;

import dev.peftembed.pooling.VirtualTokenPolicy;
import java.io.Serializable;

/**
 * How to encode: everything that is not read from the model or adapter directories. Immutable; the {@code with*}
 * methods return modified copies.
 *
 * @param virtualTokens whether prompt-tuning virtual tokens take part in pooling
 * @param batchSize the most rows per forward pass
 * @param maxBatchTokens the most padded positions per forward pass
 * @param maxSeqLength a real-token limit below the model's own, or {@code null}
 * @param prompt a literal text prompt to prepend, or {@code null}
 * @param promptName a prompt of {@code config_sentence_transformers.json} to prepend, or {@code null}
 * @param normalize {@code null} follows the model's Normalize module; true forces unit vectors at the very end
 *     (after truncation); false skips the Normalize module
 * @param truncateDim keep only the first dimensions (Matryoshka), or {@code null}
 * @param device {@code auto}, {@code cpu}, {@code gpu} or {@code gpu:N}
 * @param dtype {@code float32}, or {@code float16} on GPU
 */
public record EncoderOptions(
    VirtualTokenPolicy virtualTokens,
    int batchSize,
    int maxBatchTokens,
    Integer maxSeqLength,
    String prompt,
    String promptName,
    Boolean normalize,
    Integer truncateDim,
    String device,
    String dtype) implements Serializable {

  /** The defaults: include virtual tokens, 64 rows or 16384 positions per batch, the model's own settings. */
  public static EncoderOptions defaults() {
    return new EncoderOptions(VirtualTokenPolicy.INCLUDE, 64, 16384, null, null, null, null, null, "auto", "float32");
  }

  /** Checks ranges, so that a bad option fails before any model is loaded. */
  public EncoderOptions {
    if (virtualTokens == null) {
      throw new IllegalArgumentException("virtual tokens policy is required (include or exclude)");
    }
    if (batchSize < 1) {
      throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
    }
    if (maxBatchTokens < 1) {
      throw new IllegalArgumentException("max batch tokens must be at least 1, got " + maxBatchTokens);
    }
    if (maxSeqLength != null && maxSeqLength < 2) {
      throw new IllegalArgumentException("max sequence length must be at least 2 ([CLS] and [SEP]), got "
          + maxSeqLength);
    }
    if (truncateDim != null && truncateDim < 1) {
      throw new IllegalArgumentException("truncate dim must be at least 1, got " + truncateDim);
    }
    if (prompt != null && promptName != null) {
      throw new IllegalArgumentException("give either a prompt or a prompt name, not both");
    }
    if (!"float32".equals(dtype) && !"float16".equals(dtype)) {
      throw new IllegalArgumentException("dtype must be float32 or float16, got \"" + dtype + "\"");
    }
    DeviceChoice.parse(device);
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

  /** @return a copy with other output post-processing */
  public EncoderOptions withOutput(Boolean normalizeOverride, Integer dims) {
    return new EncoderOptions(virtualTokens, batchSize, maxBatchTokens, maxSeqLength, prompt, promptName,
        normalizeOverride, dims, device, dtype);
  }

  /** @return a copy for another device and dtype */
  public EncoderOptions withDevice(String deviceName, String dtypeName) {
    return new EncoderOptions(virtualTokens, batchSize, maxBatchTokens, maxSeqLength, prompt, promptName, normalize,
        truncateDim, deviceName, dtypeName);
  }
}

package dev.peftembed.pooling;

/**
 * Builds the pooling mask for a model output that may be longer than the tokenizer's mask: the defect this project
 * exists for (sentence-transformers #2995, where pooling died with "The expanded size of the tensor (54) must match
 * the existing size (53)").
 *
 * <p>PEFT prepends M virtual tokens, so the output has M + N positions while the tokenizer's mask has N. The mask is
 * aligned by prepending M positions, attended under {@link VirtualTokenPolicy#INCLUDE} and not under
 * {@link VirtualTokenPolicy#EXCLUDE}. The text-prompt exclusion of sentence-transformers ({@code include_prompt =
 * false}) applies to the real tokens, never to the virtual ones.
 */
public final class MaskAligner {
  private final int virtualTokens;
  private final VirtualTokenPolicy policy;
  private final String source;

  /**
   * @param virtualTokens M, declared by the adapter (0 without one)
   * @param policy whether virtual tokens take part in pooling
   * @param source where M was declared (the adapter's path), for error messages
   */
  public MaskAligner(int virtualTokens, VirtualTokenPolicy policy, String source) {
    if (virtualTokens < 0) {
      throw new IllegalArgumentException("virtual token count must be non-negative, got " + virtualTokens);
    }
    this.virtualTokens = virtualTokens;
    this.policy = policy;
    this.source = source;
  }

  /** @return M */
  public int virtualTokens() {
    return virtualTokens;
  }

  /** @return the policy */
  public VirtualTokenPolicy policy() {
    return policy;
  }

  /**
   * @param realLengths per row, the number of real tokens (special tokens included)
   * @param paddedLength the real-token length of the padded batch
   * @param outputLength positions per row in the model's output
   * @param promptLength leading real tokens ([CLS] plus a text prompt) to leave out of pooling, or 0
   * @throws MaskAlignmentException if the output length is not M + paddedLength
   */
  public AlignedMask align(int[] realLengths, int paddedLength, int outputLength, int promptLength) {
    if (outputLength != paddedLength + virtualTokens) {
      throw new MaskAlignmentException(outputLength, paddedLength, virtualTokens, source);
    }
    int batch = realLengths.length;
    float[] values = new float[batch * outputLength];
    int[] last = new int[batch];
    float virtual = policy == VirtualTokenPolicy.INCLUDE ? 1f : 0f;
    for (int b = 0; b < batch; b++) {
      int row = b * outputLength;
      for (int p = 0; p < virtualTokens; p++) {
        values[row + p] = virtual;
      }
      int n = realLengths[b];
      if (n > paddedLength) {
        throw new IllegalArgumentException("row " + b + " has " + n + " tokens, more than the padded length "
            + paddedLength);
      }
      for (int p = Math.min(promptLength, n); p < n; p++) {
        values[row + virtualTokens + p] = 1f;
      }
      last[b] = lastAttended(values, row, outputLength);
    }
    int cls = policy == VirtualTokenPolicy.INCLUDE ? 0 : virtualTokens;
    return new AlignedMask(batch, outputLength, values, cls, last);
  }

  private static int lastAttended(float[] values, int row, int length) {
    for (int p = length - 1; p >= 0; p--) {
      if (values[row + p] != 0f) {
        return p;
      }
    }
    return 0;
  }
}

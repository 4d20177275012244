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
 *
 * <p>M is either declared (by the adapter we apply, or by the adapter_config.json of a TorchScript graph) and then
 * checked on every batch, or undeclared and then detected from the first batch as output length minus mask length,
 * logged once, and checked on every later batch. Thread-safe: one aligner serves every task thread.
 */
public final class MaskAligner {
  /**
   * The largest M believed. Prompt-tuning adapters use tens to a few hundred virtual tokens and BERT-family position
   * tables have 512 rows; a bigger difference means the output is not token embeddings. A bound relative to the
   * mask would be wrong: a batch of empty texts has masks of 2 ([CLS] [SEP]) and still M virtual tokens.
   */
  public static final int MAX_VIRTUAL_TOKENS = 1024;

  private final VirtualTokenCount count;
  private final VirtualTokenPolicy policy;

  private MaskAligner(VirtualTokenCount count, VirtualTokenPolicy policy) {
    this.count = count;
    this.policy = policy;
  }

  /**
   * @param virtualTokens M, declared by the adapter (0 without one)
   * @param policy whether virtual tokens take part in pooling
   * @param source where M was declared (the adapter's path), for error messages
   */
  public MaskAligner(int virtualTokens, VirtualTokenPolicy policy, String source) {
    this(VirtualTokenCount.declared(virtualTokens, source), policy);
  }

  /**
   * An aligner for a model whose M nobody declared: the first batch shows it, every later batch must agree.
   *
   * @param policy whether virtual tokens take part in pooling
   * @param source the model whose output shows M, for the log line and error messages
   */
  public static MaskAligner detecting(VirtualTokenPolicy policy, String source) {
    return new MaskAligner(VirtualTokenCount.detected(source), policy);
  }

  /** @return M: the declared one, the one detected so far, or 0 before the first batch of an undeclared M */
  public int virtualTokens() {
    return count.current();
  }

  /** @return whether M was declared rather than detected from the output */
  public boolean declared() {
    return count.isDeclared();
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
   * @throws MaskAlignmentException if the output is shorter than the mask, longer by implausibly many positions,
   *     or longer by another M than the declared one (or, undeclared, than the first batch's)
   */
  public AlignedMask align(int[] realLengths, int paddedLength, int outputLength, int promptLength) {
    int batch = realLengths.length;
    int virtualTokens = count.of(batch, paddedLength, outputLength);
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

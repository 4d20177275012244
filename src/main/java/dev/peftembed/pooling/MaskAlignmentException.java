package dev.peftembed.pooling;

/**
 * The model returned a number of token embeddings that the virtual tokens do not explain: not the declared M, not
 * the M the first batch showed, fewer positions than the mask, or implausibly many. Raised instead of a tensor shape
 * error, with both lengths, M and where M came from.
 */
public final class MaskAlignmentException extends IllegalStateException {
  private static final long serialVersionUID = 1L;

  /**
   * @param outputLength positions per row in the model's output
   * @param maskLength positions per row in the tokenizer's attention mask
   * @param declaredVirtualTokens M as declared
   * @param source where M was declared
   */
  public MaskAlignmentException(int outputLength, int maskLength, int declaredVirtualTokens, String source) {
    super("the model returned " + outputLength + " token embeddings per row for an attention mask of " + maskLength
        + " (expected " + maskLength + " + M with M = " + declaredVirtualTokens + " virtual tokens declared by "
        + source + ", but the output shows M = " + (outputLength - maskLength) + "); check that the adapter's "
        + "num_virtual_tokens matches the model it is used with");
  }

  private MaskAlignmentException(String message) {
    super(message);
  }

  /** An output shorter than the mask, or longer by more virtual tokens than any model has: not token embeddings. */
  static MaskAlignmentException implausible(int batch, int maskLength, int outputLength, int maxVirtualTokens,
      String source) {
    String why = outputLength < maskLength ? "it is shorter than the mask, so the positions cannot be aligned"
        : "M = " + (outputLength - maskLength) + " is more than the " + maxVirtualTokens
            + " virtual tokens believed";
    return new MaskAlignmentException("the model returned token embeddings of shape [" + batch + ", " + outputLength
        + ", H] for an attention mask of shape [" + batch + ", " + maskLength + "] (M from " + source + "): " + why
        + "; check that the model's configured output is its token embeddings [batch, positions, hidden]");
  }

  /** An undeclared M that differs from the one the first batch showed. */
  static MaskAlignmentException changed(int outputLength, int maskLength, int firstVirtualTokens, String source) {
    return new MaskAlignmentException("the model returned " + outputLength + " token embeddings per row for an "
        + "attention mask of " + maskLength + ", so M = " + (outputLength - maskLength) + " virtual tokens, but the "
        + "first batch showed M = " + firstVirtualTokens + " (detected from " + source + "); the number of virtual "
        + "tokens must not depend on the input: declare it with adapter_config.json (num_virtual_tokens)");
  }
}

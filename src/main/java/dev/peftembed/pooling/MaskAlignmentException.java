package dev.peftembed.pooling;

/**
 * The model returned a number of token embeddings that the declared virtual tokens do not explain. Raised instead
 * of a tensor shape error, with both lengths, M and where M came from.
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
        + source + "); check that the adapter's num_virtual_tokens matches the model it is used with");
  }
}

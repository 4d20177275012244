package dev.peftembed.embed;

/**
 * The encoding of one text, or why there is none.
 *
 * @param vector the sentence embedding, or {@code null} when the row failed
 * @param numTokens real tokens the model read, special tokens included, virtual tokens not
 * @param truncated whether the text was cut to fit the token limit
 * @param error why this row has no embedding, or {@code null}
 */
public record Embedding(float[] vector, int numTokens, boolean truncated, String error) {

  /** A successful encoding. */
  public Embedding(float[] vector, int numTokens, boolean truncated) {
    this(vector, numTokens, truncated, null);
  }

  /** A row that could not be encoded, with a reason a user can act on. */
  public static Embedding failed(String error) {
    return new Embedding(null, 0, false, error);
  }

  /** @return whether this row has a vector */
  public boolean succeeded() {
    return vector != null;
  }
}

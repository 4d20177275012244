package dev.peftembed.embed;

import java.util.Locale;

/** Whether the output vectors are L2-normalized. */
public enum Normalization {
  /** As the model's modules say: normalized if and only if modules.json has a Normalize module. */
  MODEL,
  /** Unit vectors at the very end, after any truncation. */
  TRUE,
  /** The model's Normalize module, if any, is skipped. */
  FALSE;

  /** The accepted values, as error messages and option docs list them. */
  public static final String ALLOWED = "model, true or false";

  /**
   * @param value {@code model}, {@code true} or {@code false}, in any case
   * @return the choice
   * @throws IllegalArgumentException naming the accepted values
   */
  public static Normalization parse(String value) {
    try {
      return valueOf(value.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException | NullPointerException e) {
      throw new IllegalArgumentException("normalize must be " + ALLOWED + ", got \"" + value + "\"");
    }
  }

  /**
   * @param override a forced choice, or {@code null} for the model's
   * @return the matching choice
   */
  public static Normalization of(Boolean override) {
    return override == null ? MODEL : override ? TRUE : FALSE;
  }

  /** @return the name a user types: {@code model}, {@code true} or {@code false} */
  @Override
  public String toString() {
    return name().toLowerCase(Locale.ROOT);
  }
}

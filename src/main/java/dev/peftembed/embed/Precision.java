package dev.peftembed.embed;

import java.util.Locale;

/** The precision a model runs in: {@code float32} anywhere, {@code float16} on a GPU only. */
public enum Precision {
  /** IEEE single precision, the default. */
  FLOAT32,
  /** IEEE half precision, for GPUs. */
  FLOAT16;

  /** The accepted values, as error messages and option docs list them. */
  public static final String ALLOWED = "float32 or float16";

  /**
   * @param value {@code float32} or {@code float16}, in any case
   * @return the precision
   * @throws IllegalArgumentException naming the accepted values
   */
  public static Precision parse(String value) {
    try {
      return valueOf(value.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException | NullPointerException e) {
      throw new IllegalArgumentException("dtype must be " + ALLOWED + ", got \"" + value + "\"");
    }
  }

  /** @return the name a user types: {@code float32} or {@code float16} */
  @Override
  public String toString() {
    return name().toLowerCase(Locale.ROOT);
  }
}

package dev.peftembed.pooling;

import java.util.Locale;

/** Whether the M virtual tokens a prompt-tuning adapter prepends take part in pooling. */
public enum VirtualTokenPolicy {
  /**
   * Virtual positions count as attended and CLS is position 0, the first virtual token: exactly what
   * sentence-transformers 3.3 and later compute.
   */
  INCLUDE,
  /** Only real tokens are pooled: CLS is the real [CLS] at position M, and lasttoken is the last real token. */
  EXCLUDE;

  /** The accepted values, as error messages and option docs list them. */
  public static final String ALLOWED = "include or exclude";

  /**
   * Parses {@code include} or {@code exclude}, in any case.
   *
   * @throws IllegalArgumentException naming the accepted values
   */
  public static VirtualTokenPolicy parse(String value) {
    try {
      return valueOf(value.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException | NullPointerException e) {
      throw new IllegalArgumentException("virtual tokens policy must be " + ALLOWED + ", got \"" + value + "\"");
    }
  }

  /** @return the name a user types: {@code include} or {@code exclude} */
  @Override
  public String toString() {
    return name().toLowerCase(Locale.ROOT);
  }
}

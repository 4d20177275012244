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

  /** Parses {@code include} or {@code exclude}, in any case. */
  public static VirtualTokenPolicy parse(String value) {
    try {
      return valueOf(value.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("virtual tokens policy must be include or exclude, got \"" + value + "\"");
    }
  }
}

package dev.peftembed.join;

import java.util.Locale;

/** How a similarity join finds its pairs. */
public enum JoinMethod {
  /** Every pair is scored: blocks of rows multiplied with one matrix product each. */
  EXACT,
  /**
   * Only pairs that share a locality-sensitive-hash bucket are scored: MLlib's random projections, banded. Misses
   * some neighbours; worth it only when the exact product is too large to pay for.
   */
  LSH;

  /** @throws IllegalArgumentException naming the accepted values */
  public static JoinMethod parse(String name) {
    return switch (name.toLowerCase(Locale.ROOT)) {
      case "exact" -> EXACT;
      case "lsh" -> LSH;
      default -> throw new IllegalArgumentException("method must be exact or lsh, got \"" + name + "\"");
    };
  }

  /** @return the name the command line and the summary use */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }
}

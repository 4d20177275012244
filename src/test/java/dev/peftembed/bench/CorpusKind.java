package dev.peftembed.bench;

import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The three length profiles the benchmark runs, in tokens as the model sees them ([CLS] and [SEP] included).
 * Each draws one target length per text from its own distribution, using only the generator it is given, so that a
 * seed fixes every length.
 */
public enum CorpusKind {
  /** Queries and titles: uniform over 8–20 tokens. */
  SHORT(8, 20),
  /**
   * Realistic documents: log-normal with median {@value #MIXED_MEDIAN} tokens, redrawn until inside 5–256, so that
   * the shape is a truncated log-normal rather than one with spikes at the bounds.
   */
  MIXED(5, 256),
  /** Passages at the model's limit: uniform over 200–256 tokens. */
  LONG(200, 256);

  /** The median of the mixed profile, before truncation to its bounds. */
  public static final int MIXED_MEDIAN = 40;

  /**
   * The spread of ln(length) in the mixed profile: about 1 text in 100 falls outside 5–256 and is redrawn, and the
   * middle half spans roughly 24–66 tokens.
   */
  static final double MIXED_SIGMA = 0.75;

  private final int minTokens;
  private final int maxTokens;

  CorpusKind(int minTokens, int maxTokens) {
    this.minTokens = minTokens;
    this.maxTokens = maxTokens;
  }

  /** @return the shortest length this profile draws, in tokens */
  public int minTokens() {
    return minTokens;
  }

  /** @return the longest length this profile draws, in tokens */
  public int maxTokens() {
    return maxTokens;
  }

  /** @return the name used in flags, tables and files */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** @return the kind named {@code label} (case-insensitive) */
  public static CorpusKind parse(String label) {
    try {
      return valueOf(label.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("unknown corpus \"" + label + "\" (known: short, mixed, long)", e);
    }
  }

  /** Draws one target length in tokens. */
  int drawLength(SplittableRandom rng) {
    if (this != MIXED) {
      return rng.nextInt(minTokens, maxTokens + 1);
    }
    while (true) {
      long n = Math.round(MIXED_MEDIAN * Math.exp(MIXED_SIGMA * gaussian(rng)));
      if (n >= minTokens && n <= maxTokens) {
        return (int) n;
      }
    }
  }

  /**
   * A standard normal draw by Box–Muller from two uniform draws. Written out rather than calling
   * {@code nextGaussian()}, whose algorithm the JDK does not promise to keep, so that corpora stay identical across
   * JDK releases.
   */
  private static double gaussian(SplittableRandom rng) {
    double u = 1.0 - rng.nextDouble();
    double v = rng.nextDouble();
    return Math.sqrt(-2.0 * Math.log(u)) * Math.cos(2.0 * Math.PI * v);
  }
}

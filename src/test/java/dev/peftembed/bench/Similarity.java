package dev.peftembed.bench;

import java.util.List;

/**
 * How closely a system's vectors follow system a's on the same texts: a benchmark is only fair if every system
 * computes the same thing, and langchain4j's 128-token cut shows up here as well as in its speed.
 *
 * @param mean mean cosine similarity over the texts
 * @param min the lowest cosine similarity of any text
 */
record Similarity(double mean, double min) {

  /** Compares two lists of unit vectors text by text. */
  static Similarity between(List<float[]> reference, List<float[]> other) {
    if (reference.size() != other.size()) {
      throw new IllegalArgumentException("different text counts: " + reference.size() + " and " + other.size());
    }
    double sum = 0;
    double min = Double.POSITIVE_INFINITY;
    for (int i = 0; i < reference.size(); i++) {
      double c = cosine(reference.get(i), other.get(i));
      sum += c;
      min = Math.min(min, c);
    }
    return new Similarity(sum / reference.size(), min);
  }

  private static double cosine(float[] a, float[] b) {
    double dot = 0;
    double na = 0;
    double nb = 0;
    for (int i = 0; i < a.length; i++) {
      dot += (double) a[i] * b[i];
      na += (double) a[i] * a[i];
      nb += (double) b[i] * b[i];
    }
    return dot / Math.sqrt(na * nb);
  }
}

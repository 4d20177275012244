package dev.peftembed.bench;

import java.util.Arrays;

/**
 * The repetitions of one measurement, in seconds, warm-up excluded.
 *
 * @param seconds one entry per timed repetition
 */
public record Timings(double[] seconds) {

  /** Requires at least one repetition. */
  public Timings {
    if (seconds.length == 0) {
      throw new IllegalArgumentException("no repetitions");
    }
    seconds = seconds.clone();
  }

  /** @return the median: the figure every table reports, robust to one disturbed repetition */
  public double median() {
    double[] s = seconds.clone();
    Arrays.sort(s);
    int mid = s.length / 2;
    return s.length % 2 == 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  }

  /** @return the fastest repetition */
  public double min() {
    return Arrays.stream(seconds).min().orElseThrow();
  }

  /** @return the slowest repetition */
  public double max() {
    return Arrays.stream(seconds).max().orElseThrow();
  }

  /** @return the number of repetitions */
  public int count() {
    return seconds.length;
  }
}

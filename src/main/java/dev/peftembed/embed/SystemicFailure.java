package dev.peftembed.embed;

/**
 * Tells a window of bad rows from a broken encoder. A window where many rows fail and none succeeds points at the
 * encoder (a lost GPU, a broken model), not at the rows: failing loudly beats writing a table of nulls.
 */
final class SystemicFailure {
  /** Failed rows in one window, with none succeeding, that make the failure the encoder's rather than the rows'. */
  private static final int THRESHOLD = 8;

  private SystemicFailure() {}

  /**
   * @param window one window's results: null for null texts, failed entries for bad rows
   * @throws IllegalStateException if no row succeeded and enough failed, with the first row's error
   */
  static void check(Embedding[] window) {
    int failed = 0;
    String firstError = null;
    for (Embedding e : window) {
      if (e != null && e.succeeded()) {
        return;
      }
      if (e != null) {
        failed++;
        firstError = firstError == null ? e.error() : firstError;
      }
    }
    if (failed >= THRESHOLD) {
      throw new IllegalStateException("all " + failed + " rows of the window failed; the encoder itself is at "
          + "fault: " + firstError);
    }
  }
}

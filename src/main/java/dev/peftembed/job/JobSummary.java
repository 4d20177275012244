package dev.peftembed.job;

import java.util.Locale;

/**
 * What an embed job did, printed as the last line of stdout as one JSON object.
 *
 * @param rowsIn rows read
 * @param rowsOut rows the job wrote (read back from the committed output); for an incremental run, the rows of the
 *     output after the run
 * @param embedded rows with an embedding (for an incremental run: embedded by this run, as are the bad-row counts)
 * @param nullText rows whose text was null (their embedding is null)
 * @param truncated rows whose text was cut at the token limit
 * @param modelLoads model loads on executors: equals the executors in a fresh application
 * @param executors executors that ran embedding tasks
 * @param seconds wall time of the job, reading to commit (for an incremental run, comparing included)
 * @param badRows the other bad-row kinds: empty, blank, control characters, invalid UTF-8, failed rows, rows naming
 *     an undeclared adapter
 * @param changes what an incremental run found, or {@code null} for a full run
 */
public record JobSummary(long rowsIn, long rowsOut, long embedded, long nullText, long truncated, long modelLoads,
    int executors, double seconds, BadRows badRows, Changes changes) {

  /** A full (not incremental) run's summary. */
  public JobSummary(long rowsIn, long rowsOut, long embedded, long nullText, long truncated, long modelLoads,
      int executors, double seconds, BadRows badRows) {
    this(rowsIn, rowsOut, embedded, nullText, truncated, modelLoads, executors, seconds, badRows, null);
  }

  /**
   * How an incremental run's input compared with the existing output, by id and text hash.
   *
   * @param rowsNew ids not in the output: embedded
   * @param rowsChanged ids whose text hash differs: embedded again
   * @param rowsUnchanged ids with the same text hash: carried over, not embedded
   * @param rowsDeleted output rows whose id is gone from the input and that were removed (0 with keep-deleted)
   */
  public record Changes(long rowsNew, long rowsChanged, long rowsUnchanged, long rowsDeleted) {
    /** @return whether the output must change at all */
    public boolean any() {
      return rowsNew + rowsChanged + rowsDeleted > 0;
    }
  }

  /**
   * Bad-row kinds beyond null texts and truncation. Every kind except {@code failed} is embedded.
   *
   * @param emptyText rows whose text was empty: embedded as {@code [CLS] [SEP]}
   * @param blankText rows whose text was only white space: embedded as {@code [CLS] [SEP]}
   * @param controlChars rows whose text held control characters or NUL, which the tokenizer drops
   * @param invalidUtf8 rows whose text was not valid UTF-8, or held U+FFFD where a decoder had met such bytes
   * @param failed rows with a text but no embedding: the model failed on them
   * @param unknownAdapter rows with a text that name an adapter the job did not declare: not embedded
   */
  public record BadRows(long emptyText, long blankText, long controlChars, long invalidUtf8, long failed,
      long unknownAdapter) {}

  /**
   * @return rows this run passed to the model: every row a full run wrote, the new and changed rows of an incremental
   *     one (carried-over rows cost no model time); null texts and failed rows included, as they took their turn
   */
  public long rowsProcessed() {
    return changes == null ? rowsOut : changes.rowsNew() + changes.rowsChanged();
  }

  /** @return {@link #rowsProcessed()} per second of wall time */
  public double rowsPerSecond() {
    return seconds > 0 ? rowsProcessed() / seconds : 0;
  }

  /** @return the one-line JSON form */
  public String toJson() {
    String incremental = changes == null ? "" : String.format(Locale.ROOT,
        ",\"rows_new\":%d,\"rows_changed\":%d,\"rows_unchanged\":%d,\"rows_deleted\":%d", changes.rowsNew(),
        changes.rowsChanged(), changes.rowsUnchanged(), changes.rowsDeleted());
    return String.format(Locale.ROOT, "{\"rows_in\":%d,\"rows_out\":%d,\"embedded\":%d,\"null_text\":%d,"
            + "\"empty_text\":%d,\"blank_text\":%d,\"control_chars\":%d,\"invalid_utf8\":%d,"
            + "\"truncated\":%d,\"failed\":%d,\"unknown_adapter\":%d,"
            + "\"model_loads\":%d,\"executors\":%d,\"seconds\":%.3f,\"rows_per_second\":%.1f%s}",
        rowsIn, rowsOut, embedded, nullText, badRows.emptyText(), badRows.blankText(), badRows.controlChars(),
        badRows.invalidUtf8(), truncated, badRows.failed(), badRows.unknownAdapter(), modelLoads, executors, seconds,
        rowsPerSecond(),
        incremental);
  }
}

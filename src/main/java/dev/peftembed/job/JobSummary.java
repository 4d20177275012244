package dev.peftembed.job;

import java.util.Locale;

/**
 * What an embed job did, printed as the last line of stdout as one JSON object.
 *
 * @param rowsIn rows read
 * @param rowsOut rows the job wrote (read back from the committed output)
 * @param embedded rows with an embedding
 * @param nullText rows whose text was null (their embedding is null)
 * @param truncated rows whose text was cut at the token limit
 * @param modelLoads model loads on executors: equals the executors in a fresh application
 * @param executors executors that ran embedding tasks
 * @param seconds wall time of the job, reading to commit
 * @param badRows the other bad-row kinds: empty, blank, control characters, invalid UTF-8, failed rows
 */
public record JobSummary(long rowsIn, long rowsOut, long embedded, long nullText, long truncated, long modelLoads,
    int executors, double seconds, BadRows badRows) {

  /**
   * Bad-row kinds beyond null texts and truncation. Every kind except {@code failed} is embedded.
   *
   * @param emptyText rows whose text was empty: embedded as {@code [CLS] [SEP]}
   * @param blankText rows whose text was only white space: embedded as {@code [CLS] [SEP]}
   * @param controlChars rows whose text held control characters or NUL, which the tokenizer drops
   * @param invalidUtf8 rows whose text was not valid UTF-8, or held U+FFFD where a decoder had met such bytes
   * @param failed rows with a text but no embedding: the model failed on them
   */
  public record BadRows(long emptyText, long blankText, long controlChars, long invalidUtf8, long failed) {}

  /** @return rows written per second of wall time */
  public double rowsPerSecond() {
    return seconds > 0 ? rowsOut / seconds : 0;
  }

  /** @return the one-line JSON form */
  public String toJson() {
    return String.format(Locale.ROOT, "{\"rows_in\":%d,\"rows_out\":%d,\"embedded\":%d,\"null_text\":%d,"
            + "\"empty_text\":%d,\"blank_text\":%d,\"control_chars\":%d,\"invalid_utf8\":%d,"
            + "\"truncated\":%d,\"failed\":%d,"
            + "\"model_loads\":%d,\"executors\":%d,\"seconds\":%.3f,\"rows_per_second\":%.1f}",
        rowsIn, rowsOut, embedded, nullText, badRows.emptyText(), badRows.blankText(), badRows.controlChars(),
        badRows.invalidUtf8(), truncated, badRows.failed(), modelLoads, executors, seconds, rowsPerSecond());
  }
}

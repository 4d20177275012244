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
 */
public record JobSummary(long rowsIn, long rowsOut, long embedded, long nullText, long truncated, long modelLoads,
    int executors, double seconds) {

  /** @return rows written per second of wall time */
  public double rowsPerSecond() {
    return seconds > 0 ? rowsOut / seconds : 0;
  }

  /** @return the one-line JSON form */
  public String toJson() {
    return String.format(Locale.ROOT, "{\"rows_in\":%d,\"rows_out\":%d,\"embedded\":%d,\"null_text\":%d,"
            + "\"truncated\":%d,\"model_loads\":%d,\"executors\":%d,\"seconds\":%.3f,\"rows_per_second\":%.1f}",
        rowsIn, rowsOut, embedded, nullText, truncated, modelLoads, executors, seconds, rowsPerSecond());
  }
}

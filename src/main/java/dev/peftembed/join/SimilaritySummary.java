package dev.peftembed.join;

import java.util.Locale;

/**
 * What a {@code similar} run did, printed as the last line of stdout as one JSON object.
 *
 * @param task {@code join} or {@code dedup}
 * @param method exact or LSH
 * @param plan {@code broadcast} or {@code cross} (exact), or {@code lsh}
 * @param pairs join: pairs written; dedup: distinct pairs at or above the threshold
 * @param clusters dedup: clusters of two or more rows; join: 0
 * @param clusteredRows dedup: rows written (members of those clusters); join: 0
 * @param leftRows left rows with a usable vector
 * @param rightRows right rows with a usable vector (the same rows in a self-join)
 * @param skippedRows rows without a usable vector
 * @param seconds wall time, reading to commit
 */
public record SimilaritySummary(String task, JoinMethod method, String plan, long pairs, long clusters,
    long clusteredRows, long leftRows, long rightRows, long skippedRows, double seconds) {

  /** @return the one-line JSON form */
  public String toJson() {
    String dedup = task.equals("dedup")
        ? String.format(Locale.ROOT, "\"clusters\":%d,\"clustered_rows\":%d,", clusters, clusteredRows) : "";
    return String.format(Locale.ROOT, "{\"task\":\"%s\",\"method\":\"%s\",\"plan\":\"%s\",\"pairs\":%d,%s"
            + "\"left_rows\":%d,\"right_rows\":%d,\"skipped_rows\":%d,\"seconds\":%.3f}", task, method.label(), plan,
        pairs, dedup, leftRows, rightRows, skippedRows, seconds);
  }
}

package dev.peftembed.job;

import java.util.Set;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.is_valid_utf8;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.not;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

/**
 * The bad-text kinds of an input table, counted in one aggregation over its text column. An aggregation is exact
 * under task retries, unlike an accumulator updated inside the embedding tasks, so the counts are those of the
 * input whatever the cluster did. A row can be of several kinds: a truncated text may hold control characters.
 *
 * @param rows rows read
 * @param nullText rows whose text is null
 * @param emptyText rows whose text is the empty string
 * @param blankText rows whose text is not empty but only Unicode white space
 * @param controlChars rows whose text holds a C0 or C1 control character other than tab, line feed and carriage
 *     return (NUL included): the tokenizer's normalizer drops them
 * @param invalidUtf8 rows whose text was not valid UTF-8: bytes that are not UTF-8 (Spark keeps them as read; the
 *     model sees U+FFFD in their place), or a U+FFFD already there (a decoder upstream met such bytes)
 * @param unknownAdapter rows with a text whose adapter column names no declared adapter
 */
public record TextKindCounts(long rows, long nullText, long emptyText, long blankText, long controlChars,
    long invalidUtf8, long unknownAdapter) {

  /** What a run that embeds no row counts. */
  public static final TextKindCounts NONE = new TextKindCounts(0, 0, 0, 0, 0, 0, 0);

  /** Cc without tab (09), line feed (0A) and carriage return (0D). */
  private static final String CONTROL = "[\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F\\x7F-\\x9F]";
  /** (?U): Java's \s then means Unicode White_Space (no-break and ideographic spaces too), as the tokenizer's. */
  private static final String BLANK = "(?U)^\\s+$";

  /**
   * Counts the kinds of {@code textCol}, which must be a string column.
   *
   * @return the counts, from one Spark job over the table
   */
  public static TextKindCounts of(Dataset<Row> table, String textCol) {
    return of(table, textCol, null, Set.of());
  }

  /**
   * Counts the kinds of {@code textCol}, and the rows whose {@code adapterCol} names none of {@code adapters}.
   *
   * @param adapterCol the string column naming each row's adapter, or {@code null} without named adapters
   * @return the counts, from one Spark job over the table
   */
  public static TextKindCounts of(Dataset<Row> table, String textCol, String adapterCol, Set<String> adapters) {
    Column text = col(textCol);
    Column unknown = adapterCol == null ? lit(false)
        : text.isNotNull().and(col(adapterCol).isNotNull()).and(not(col(adapterCol).isin(adapters.toArray())));
    Row c = table.agg(count(lit(1)), flagged(text.isNull()), flagged(text.equalTo("")), flagged(text.rlike(BLANK)),
        flagged(text.rlike(CONTROL)), flagged(is_valid_utf8(text).unary_$bang().or(text.contains("\uFFFD"))),
        flagged(unknown)).first();
    return new TextKindCounts(c.getLong(0), c.getLong(1), c.getLong(2), c.getLong(3), c.getLong(4), c.getLong(5),
        c.getLong(6));
  }

  /**
   * The summary's bad-row counts once these rows are written.
   *
   * @param written the rows written
   * @param embedded of those, the rows with an embedding
   */
  JobSummary.BadRows badRows(long written, long embedded) {
    // Rows without an embedding are null texts, rows naming an undeclared adapter, or failed rows; the first two are
    // known from the input.
    long failed = written - embedded - nullText - unknownAdapter;
    return new JobSummary.BadRows(emptyText, blankText, controlChars, invalidUtf8, failed, unknownAdapter);
  }

  /**
   * Counts the rows where {@code condition} holds; a null condition (null text) counts as false. The sum of no rows
   * is null, hence the coalesce: an empty table has 0 of each kind.
   */
  private static Column flagged(Column condition) {
    return coalesce(sum(when(condition, 1L).otherwise(0L)), lit(0L));
  }
}

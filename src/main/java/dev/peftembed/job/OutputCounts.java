package dev.peftembed.job;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

/**
 * Row counts of embedded rows, from their cheap columns only (never the vectors).
 *
 * @param rows all rows
 * @param embedded rows with an embedding
 * @param truncated rows whose text was cut to the token limit
 */
record OutputCounts(long rows, long embedded, long truncated) {
  /** The counts of an output that does not exist. */
  static final OutputCounts NONE = new OutputCounts(0, 0, 0);

  /** Counts a written output, in {@link JobGroup#VERIFY}; {@link #NONE} when there is none. */
  static OutputCounts ofWritten(SparkSession spark, OutputFormat format, String output, StructType schema) {
    if (!OutputLocation.exists(output, spark.sparkContext().hadoopConfiguration())) {
      return NONE;
    }
    return JobGroup.VERIFY.run(spark, "count written rows", () -> of(OutputTable.read(spark, format, output, schema)));
  }

  /** Counts rows with the output's {@code num_tokens} and {@code truncated} columns, in one job. */
  static OutputCounts of(Dataset<Row> rows) {
    Row c = rows.agg(count(lit(1)), count(col("num_tokens")),
        sum(when(col("truncated"), 1).otherwise(0))).first();
    return new OutputCounts(c.getLong(0), c.getLong(1), c.isNullAt(2) ? 0 : c.getLong(2));
  }
}

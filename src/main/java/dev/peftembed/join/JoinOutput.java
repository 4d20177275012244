package dev.peftembed.join;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.row_number;

/** The columns every join writes, and the ranking of pairs that arrive unranked. */
final class JoinOutput {
  static final String LEFT_ID = "left_id";
  static final String RIGHT_ID = "right_id";
  static final String SCORE = "score";
  static final String RANK = "rank";

  private JoinOutput() {}

  /** left_id, right_id, score */
  static StructType pairSchema(DataType idType) {
    return new StructType().add(LEFT_ID, idType, false).add(RIGHT_ID, idType, false)
        .add(SCORE, DataTypes.FloatType, false);
  }

  /** left_id, right_id, score, rank */
  static StructType rankedSchema(DataType idType) {
    return pairSchema(idType).add(RANK, DataTypes.IntegerType, false);
  }

  /**
   * Ranks pairs within each left row, best first, ties broken by the smaller right id, as {@link BlockTopK} does. For
   * selections without k, whose rows can have any number of pairs: Spark's window sort spills, a heap would not.
   */
  static Dataset<Row> ranked(Dataset<Row> pairs) {
    return pairs.withColumn(RANK, row_number().over(Window.partitionBy(col(LEFT_ID))
        .orderBy(col(SCORE).desc(), col(RIGHT_ID).asc())));
  }

  /** @return the float that a float score must reach to be at least {@code threshold} as a double */
  static float minScore(JoinOptions options) {
    if (!options.hasThreshold()) {
      return Float.NEGATIVE_INFINITY;
    }
    double threshold = options.threshold();
    float f = (float) threshold;
    return f < threshold ? Math.nextUp(f) : f;
  }
}

package dev.peftembed.join;

import java.util.Arrays;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.UserDefinedType;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.countDistinct;
import static org.apache.spark.sql.functions.expr;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.size;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

/**
 * One side of a join, checked on the driver: an id column (integers become {@code long}, strings stay) and a vector
 * column as {@code array<float>}, renamed {@code id} and {@code vector}. Rows whose vector is null, empty, zero, not
 * finite or holds a null have no direction, so they take no part in a join; they are counted as skipped.
 */
final class EmbeddingTable {
  static final String ID = "id";
  static final String VECTOR = "vector";
  private static final String NORM2 = "norm2";

  private final Dataset<Row> rows;
  private final String idCol;
  private final String embeddingCol;
  private Stats stats;

  /**
   * What one pass over the table found.
   *
   * @param rows all rows
   * @param vectors rows with a usable vector
   * @param dimension the vectors' length, or 0 when there are none
   */
  record Stats(long rows, long vectors, int dimension) {
    long skipped() {
      return rows - vectors;
    }
  }

  private EmbeddingTable(Dataset<Row> rows, String idCol, String embeddingCol) {
    this.rows = rows;
    this.idCol = idCol;
    this.embeddingCol = embeddingCol;
  }

  /**
   * Checks the column types of a table; reads no data.
   *
   * @throws IllegalArgumentException for a missing column or one of the wrong type
   */
  static EmbeddingTable of(Dataset<Row> table, String idCol, String embeddingCol) {
    return new EmbeddingTable(table.select(idColumn(table, idCol).as(ID),
        vectorColumn(table, embeddingCol).as(VECTOR)), idCol, embeddingCol);
  }

  /** A table already in this class's layout (columns id and vector), such as a sample of another. */
  static EmbeddingTable prepared(Dataset<Row> rows) {
    return new EmbeddingTable(rows.select(ID, VECTOR), ID, VECTOR);
  }

  private static Column idColumn(Dataset<Row> table, String name) {
    DataType type = columnType(table, name, "id");
    if (type.equals(DataTypes.StringType) || type.equals(DataTypes.LongType)) {
      return col(name);
    }
    if (type.equals(DataTypes.IntegerType) || type.equals(DataTypes.ShortType) || type.equals(DataTypes.ByteType)) {
      return col(name).cast(DataTypes.LongType);
    }
    throw new IllegalArgumentException("id column \"" + name + "\" must be an integer or string column, got "
        + type.simpleString());
  }

  private static Column vectorColumn(Dataset<Row> table, String name) {
    DataType type = columnType(table, name, "embedding");
    if (type instanceof ArrayType array && array.elementType() instanceof NumericType) {
      return col(name).cast(DataTypes.createArrayType(DataTypes.FloatType));
    }
    if (type.equals(SQLDataTypes.VectorType())) {
      return org.apache.spark.ml.functions.vector_to_array(col(name), "float32");
    }
    String hint = type instanceof UserDefinedType<?> udt
        ? " (" + udt.userClass().getName() + "; convert old mllib vectors with MLUtils.convertVectorColumnsToML)" : "";
    throw new IllegalArgumentException("embedding column \"" + name + "\" must be array<float>, array<double> or an "
        + "ML Vector, got " + type.simpleString() + hint);
  }

  private static DataType columnType(Dataset<Row> table, String name, String role) {
    if (!Arrays.asList(table.columns()).contains(name)) {
      throw new IllegalArgumentException(role + " column \"" + name + "\" not found; the table has columns "
          + Arrays.toString(table.columns()));
    }
    return table.schema().apply(name).dataType();
  }

  /** @return the id type: {@code long} or {@code string} */
  DataType idType() {
    return rows.schema().apply(ID).dataType();
  }

  /**
   * Counts rows and usable vectors and checks ids and lengths, in one pass (computed once).
   *
   * @throws IllegalArgumentException for null or repeated ids, or vectors of different lengths
   */
  synchronized Stats stats() {
    if (stats == null) {
      Row r = withNorm().agg(count(lit(1)), count(col(ID)), countDistinct(col(ID)),
          sum(when(usable(), 1L).otherwise(0L)), min(when(usable(), size(col(VECTOR)))),
          max(when(usable(), size(col(VECTOR))))).first();
      long all = r.getLong(0);
      long ids = r.getLong(1);
      if (ids < all) {
        throw new IllegalArgumentException("id column \"" + idCol + "\" has " + (all - ids) + " null values");
      }
      if (r.getLong(2) < ids) {
        throw new IllegalArgumentException("id column \"" + idCol + "\" is not unique: " + ids + " rows, "
            + r.getLong(2) + " distinct ids");
      }
      long vectors = r.isNullAt(3) ? 0 : r.getLong(3);
      if (vectors > 0 && r.getInt(4) != r.getInt(5)) {
        throw new IllegalArgumentException("embedding column \"" + embeddingCol + "\" holds vectors of different "
            + "lengths, from " + r.getInt(4) + " to " + r.getInt(5));
      }
      stats = new Stats(all, vectors, vectors > 0 ? r.getInt(4) : 0);
    }
    return stats;
  }

  /**
   * @return columns id and vector for the rows with a vector; {@link UnitVectors#unit} skips the rest of the unusable
   *     ones by the same rule as {@link #stats()}
   */
  Dataset<Row> rowsWithVector() {
    return rows.filter(col(VECTOR).isNotNull());
  }

  private Dataset<Row> withNorm() {
    return rows.withColumn(NORM2, expr("aggregate(" + VECTOR + ", 0D, (acc, x) -> acc + double(x) * double(x))"));
  }

  /** Positive and finite; NaN is excluded too because Spark orders NaN above infinity. */
  private static Column usable() {
    return col(NORM2).gt(0).and(col(NORM2).lt(Double.POSITIVE_INFINITY));
  }
}

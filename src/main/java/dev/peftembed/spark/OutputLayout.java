package dev.peftembed.spark;

import dev.peftembed.embed.Embedding;
import java.io.Serializable;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * The shape of the stage's output: every input column untouched, then the embedding, then the optional token count
 * and truncation flag. Built on the driver from the input schema, which it validates; used on the executors to
 * build the output rows.
 */
public final class OutputLayout implements Serializable {
  private static final long serialVersionUID = 1L;

  private final StructType schema;
  private final int inputWidth;
  private final int textIndex;
  private final boolean vector;
  private final boolean numTokens;
  private final boolean truncated;
  private final boolean errors;
  private final int adapterIndex;

  private OutputLayout(StructType schema, int inputWidth, int textIndex, boolean vector, boolean numTokens,
      boolean truncated, boolean errors, int adapterIndex) {
    this.schema = schema;
    this.inputWidth = inputWidth;
    this.textIndex = textIndex;
    this.vector = vector;
    this.numTokens = numTokens;
    this.truncated = truncated;
    this.errors = errors;
    this.adapterIndex = adapterIndex;
  }

  /**
   * @param input the input schema
   * @param adapterCol the string column naming each row's adapter
   * @return this layout, reading each row's adapter name from {@code adapterCol}
   * @throws IllegalArgumentException if the column is missing or not a string
   */
  public OutputLayout withAdapterColumn(StructType input, String adapterCol) {
    if (!Arrays.asList(input.fieldNames()).contains(adapterCol)) {
      throw new IllegalArgumentException("adapter column \"" + adapterCol + "\" does not exist; with named adapters "
          + "each row names its adapter there (null: the base model); the columns are "
          + Arrays.toString(input.fieldNames()));
    }
    DataType found = input.apply(adapterCol).dataType();
    if (!found.equals(DataTypes.StringType)) {
      throw new IllegalArgumentException("adapter column \"" + adapterCol + "\" must be a string, but it is "
          + found.simpleString());
    }
    return new OutputLayout(schema, inputWidth, textIndex, vector, numTokens, truncated, errors,
        input.fieldIndex(adapterCol));
  }

  /**
   * @param input the input schema
   * @param inputCol the text column: must exist and be a string
   * @param outputCol the embedding column: must be new
   * @param outputType {@code array} (array&lt;float&gt;) or {@code vector} (an ML dense vector)
   * @param numTokensCol a new int column for the real-token count, or empty for none
   * @param truncatedCol a new boolean column telling whether the text was cut, or empty for none
   * @param errorCol a new string column saying why a row has no embedding, or empty for none
   * @throws IllegalArgumentException naming the column and what is wrong with it
   */
  public static OutputLayout of(StructType input, String inputCol, String outputCol, String outputType,
      String numTokensCol, String truncatedCol, String errorCol) {
    Set<String> names = new HashSet<>(Arrays.asList(input.fieldNames()));
    if (!names.contains(inputCol)) {
      throw new IllegalArgumentException("input column \"" + inputCol + "\" does not exist; the columns are "
          + Arrays.toString(input.fieldNames()));
    }
    DataType found = input.apply(inputCol).dataType();
    if (!found.equals(DataTypes.StringType)) {
      throw new IllegalArgumentException("input column \"" + inputCol + "\" must be a string, but it is "
          + found.simpleString());
    }
    boolean vector = switch (outputType) {
      case "array" -> false;
      case "vector" -> true;
      default -> throw new IllegalArgumentException("output type must be array or vector, got \"" + outputType
          + "\"");
    };
    StructType out = input;
    out = append(out, names, "output", outputCol,
        vector ? SQLDataTypes.VectorType() : DataTypes.createArrayType(DataTypes.FloatType, false));
    boolean counts = !numTokensCol.isEmpty();
    if (counts) {
      out = append(out, names, "num tokens", numTokensCol, DataTypes.IntegerType);
    }
    boolean flags = !truncatedCol.isEmpty();
    if (flags) {
      out = append(out, names, "truncated", truncatedCol, DataTypes.BooleanType);
    }
    boolean errors = !errorCol.isEmpty();
    if (errors) {
      out = append(out, names, "error", errorCol, DataTypes.StringType);
    }
    return new OutputLayout(out, input.size(), input.fieldIndex(inputCol), vector, counts, flags, errors, -1);
  }

  private static StructType append(StructType schema, Set<String> taken, String role, String name, DataType type) {
    if (name.isEmpty()) {
      throw new IllegalArgumentException(role + " column name must not be empty");
    }
    if (!taken.add(name)) {
      throw new IllegalArgumentException(role + " column \"" + name + "\" already exists; choose a new name");
    }
    // Nullable: a null text has no embedding, token count or truncation flag.
    return schema.add(new StructField(name, type, true, org.apache.spark.sql.types.Metadata.empty()));
  }

  /** @return the output schema */
  public StructType schema() {
    return schema;
  }

  /** @return the text of an input row, or {@code null} */
  public String text(Row input) {
    return input.getString(textIndex);
  }

  /** @return the adapter an input row names, or {@code null} for the base model or without an adapter column */
  public String adapter(Row input) {
    return adapterIndex < 0 ? null : input.getString(adapterIndex);
  }

  /**
   * @return the input row's values, unchanged, followed by the embedding's columns: {@code null}s for a null text,
   *     and for a failed row {@code null}s plus the reason in the error column
   */
  public Row extend(Row input, Embedding embedding) {
    Object[] values = new Object[schema.size()];
    for (int i = 0; i < inputWidth; i++) {
      values[i] = input.get(i);
    }
    int next = inputWidth;
    boolean ok = embedding != null && embedding.succeeded();
    if (ok) {
      values[next] = vector ? Vectors.dense(widen(embedding.vector())) : embedding.vector();
    }
    next++;
    if (numTokens) {
      values[next++] = ok ? embedding.numTokens() : null;
    }
    if (truncated) {
      values[next++] = ok ? embedding.truncated() : null;
    }
    if (errors) {
      values[next] = embedding == null ? null : embedding.error();
    }
    return RowFactory.create(values);
  }

  private static double[] widen(float[] v) {
    double[] d = new double[v.length];
    for (int i = 0; i < v.length; i++) {
      d[i] = v[i];
    }
    return d;
  }
}

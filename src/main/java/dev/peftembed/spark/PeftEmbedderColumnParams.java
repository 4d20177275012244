package dev.peftembed.spark;

import java.util.List;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.sql.types.StructType;
import static dev.peftembed.spark.StageParamChecks.nonEmpty;

/**
 * The column params of {@link PeftEmbedder}: the column it reads, and the columns it adds and their types. The
 * params that say how texts are encoded are {@link PeftEmbedderParams}'.
 *
 * <p>Spark finds params by reflection on public no-argument methods returning a {@link Param}, so each is such a
 * method; the setters live on the stage so that they chain.
 */
public abstract class PeftEmbedderColumnParams extends Transformer {
  private static final long serialVersionUID = 1L;

  private final String uid;
  private final Param<String> inputCol;
  private final Param<String> outputCol;
  private final Param<String> outputType;
  private final Param<String> numTokensCol;
  private final Param<String> truncatedCol;
  private final Param<String> errorCol;
  private final Param<String> adapterCol;

  /**
   * Creates the column params and sets their defaults.
   *
   * @param uid the stage's unique id, which every param records as its parent
   */
  protected PeftEmbedderColumnParams(String uid) {
    // Params name their parent by uid when they are created, so the uid must be set first.
    this.uid = uid;
    inputCol = new Param<>(this, "inputCol", "the string column to embed", nonEmpty());
    outputCol = new Param<>(this, "outputCol", "the new column for the embeddings", nonEmpty());
    outputType = new Param<>(this, "outputType", "the output column's type: array (array<float>) or vector (an ML "
        + "dense vector of doubles)", ParamValidators.inArray(List.of("array", "vector")));
    numTokensCol = new Param<>(this, "numTokensCol", "a new int column for the real tokens each text was encoded "
        + "with (special tokens included, virtual tokens not); empty for none");
    truncatedCol = new Param<>(this, "truncatedCol", "a new boolean column telling whether each text was cut to the "
        + "token limit; empty for none");
    errorCol = new Param<>(this, "errorCol", "a new string column saying why a row has no embedding (null when it "
        + "has one, or when its text is null); empty for none");
    adapterCol = new Param<>(this, "adapterCol", "with named adapters, the string column naming each row's "
        + "adapter; null for the base model", nonEmpty());
    setDefault(inputCol, "text");
    setDefault(outputCol, "embedding");
    setDefault(outputType, "array");
    setDefault(numTokensCol, "");
    setDefault(truncatedCol, "");
    setDefault(errorCol, "");
    setDefault(adapterCol, "adapter");
  }

  @Override
  public String uid() {
    return uid;
  }

  /** @return the string column to embed; default {@code text} */
  public Param<String> inputCol() {
    return inputCol;
  }

  /** @return the new column for the embeddings; default {@code embedding} */
  public Param<String> outputCol() {
    return outputCol;
  }

  /** @return {@code array} or {@code vector}; default {@code array} */
  public Param<String> outputType() {
    return outputType;
  }

  /** @return the new token-count column; default empty: none */
  public Param<String> numTokensCol() {
    return numTokensCol;
  }

  /** @return the new truncation-flag column; default empty: none */
  public Param<String> truncatedCol() {
    return truncatedCol;
  }

  /** @return the optional column that says why a row failed */
  public Param<String> errorCol() {
    return errorCol;
  }

  /** @return the column naming each row's adapter, read with named adapters only; default {@code adapter} */
  public Param<String> adapterCol() {
    return adapterCol;
  }

  /** @return the value of {@link #adapterCol()} */
  public String getAdapterCol() {
    return getOrDefault(adapterCol);
  }

  /** @return whether rows pick among named adapters, so that {@link #adapterCol()} is read */
  abstract boolean namesAdapters();

  /** @return the value of {@link #inputCol()} */
  public String getInputCol() {
    return getOrDefault(inputCol);
  }

  /** @return the value of {@link #outputCol()} */
  public String getOutputCol() {
    return getOrDefault(outputCol);
  }

  /** @return the value of {@link #outputType()} */
  public String getOutputType() {
    return getOrDefault(outputType);
  }

  /** @return the value of {@link #numTokensCol()} */
  public String getNumTokensCol() {
    return getOrDefault(numTokensCol);
  }

  /** @return the value of {@link #truncatedCol()} */
  public String getTruncatedCol() {
    return getOrDefault(truncatedCol);
  }

  /** @return the value of {@link #errorCol()} */
  public String getErrorCol() {
    return getOrDefault(errorCol);
  }

  /**
   * @return the columns these params name, on the input's {@code schema}
   * @throws IllegalArgumentException naming the column and what is wrong with it
   */
  OutputLayout outputLayout(StructType schema) {
    OutputLayout layout = OutputLayout.of(schema, getInputCol(), getOutputCol(), getOutputType(), getNumTokensCol(),
        getTruncatedCol(), getErrorCol());
    return namesAdapters() ? layout.withAdapterColumn(schema, getAdapterCol()) : layout;
  }
}

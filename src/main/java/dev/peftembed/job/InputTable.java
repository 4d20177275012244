package dev.peftembed.job;

import java.util.Arrays;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A table of texts as the jobs read it: by {@link InputFormat}, with an id column for each row. {@code embed} reads
 * its input with it, {@code similar} its embeddings.
 */
public final class InputTable {
  private static final Logger LOG = LoggerFactory.getLogger(InputTable.class);

  private InputTable() {}

  /**
   * Reads a table.
   *
   * @param input a file or directory, local or on any Hadoop file system
   * @param textCol the column a plain-text input's lines go to
   */
  public static Dataset<Row> read(SparkSession spark, String input, InputFormat format, String textCol) {
    return switch (format) {
      case JSONL -> spark.read().json(input);
      case PARQUET -> spark.read().parquet(input);
      case CSV -> spark.read().option("header", "true").option("multiLine", "true").option("escape", "\"")
          .csv(input);
      case TEXT -> spark.read().text(input).withColumnRenamed("value", textCol);
    };
  }

  /**
   * Adds an id when the input has none: the row's position in the input, which is stable for the same input files
   * and split settings (Spark orders partitions by file and offset), so add it before spreading the rows over
   * partitions, which reorders them.
   *
   * @param adapterCol the column naming each row's adapter, kept beside the text; {@code null} for none
   */
  static Dataset<Row> withId(Dataset<Row> table, String idCol, String textCol, String adapterCol) {
    if (Arrays.asList(table.columns()).contains(idCol)) {
      return table;
    }
    LOG.info("input has no column \"{}\": ids are generated from row positions", idCol);
    List<String> columns = Arrays.asList(table.columns());
    Dataset<Row> texts = !columns.contains(textCol) ? table
        : adapterCol != null && columns.contains(adapterCol) ? table.select(textCol, adapterCol)
        : table.select(textCol);
    StructType schema = texts.schema().add(idCol, DataTypes.LongType, false);
    JavaRDD<Row> rows = texts.javaRDD().zipWithIndex().map(t -> {
      Object[] values = new Object[t._1().size() + 1];
      for (int i = 0; i < t._1().size(); i++) {
        values[i] = t._1().get(i);
      }
      values[values.length - 1] = t._2();
      return RowFactory.create(values);
    });
    return table.sparkSession().createDataFrame(rows, schema);
  }
}

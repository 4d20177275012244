package dev.peftembed.job;

import io.delta.tables.DeltaTable;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Everything the embed job does with Delta Lake. Only its nested {@code Tables} class names Delta's classes, and is
 * loaded on first use, so a classpath without delta-spark fails only when a Delta output is asked for, with the
 * message of {@link #requireSession}.
 */
public final class DeltaLake {
  /** The session extension Delta needs for MERGE and its SQL. */
  public static final String EXTENSION = "io.delta.sql.DeltaSparkSessionExtension";
  /** The catalog Delta needs in place of the session catalog. */
  public static final String CATALOG = "org.apache.spark.sql.delta.catalog.DeltaCatalog";
  /** The artifact that matches our Spark, for messages and docs. */
  public static final String PACKAGE = "io.delta:delta-spark_2.13:4.0.0";

  private DeltaLake() {}

  /**
   * Checks on the driver, before any job, that delta-spark is on the classpath and that the session was started
   * with Delta's extension and catalog (both are static: they cannot be added to a running session).
   *
   * @throws IllegalArgumentException saying what to add
   */
  static void requireSession(SparkSession spark) {
    try {
      Class.forName(EXTENSION, false, DeltaLake.class.getClassLoader());
    } catch (ClassNotFoundException e) {
      throw new IllegalArgumentException("--output-format delta needs Delta Lake on the classpath: add " + PACKAGE
          + " (spark-submit --packages " + PACKAGE + ")", e);
    }
    String extensions = spark.conf().get("spark.sql.extensions", "");
    String catalog = spark.conf().get("spark.sql.catalog.spark_catalog", "");
    if (!extensions.contains(EXTENSION) || !CATALOG.equals(catalog)) {
      throw new IllegalArgumentException("--output-format delta needs a session started with "
          + "spark.sql.extensions=" + EXTENSION + " and spark.sql.catalog.spark_catalog=" + CATALOG
          + " (peft-embed sets both when it starts the session; pass them with --conf when the session is the host's)");
    }
  }

  static boolean isTable(SparkSession spark, String path) {
    return Tables.isTable(spark, path);
  }

  /** @return the table's current version: each commit adds one */
  public static long version(SparkSession spark, String path) {
    return Tables.version(spark, path);
  }

  /**
   * Merges {@code source} into the table on {@code id}: a matched row whose {@code deleteCol} is true is deleted,
   * other matched rows are replaced, unmatched ones inserted. One Delta commit.
   *
   * @param source the table's columns plus {@code deleteCol}
   */
  static void merge(SparkSession spark, String path, Dataset<Row> source, String deleteCol) {
    Map<String, String> assignments = new LinkedHashMap<>();
    for (String c : source.columns()) {
      if (!c.equals(deleteCol)) {
        assignments.put("`" + c + "`", "s.`" + c + "`");
      }
    }
    Tables.merge(spark, path, source, deleteCol, assignments);
  }

  /** The calls into delta-spark. */
  private static final class Tables {
    static boolean isTable(SparkSession spark, String path) {
      return DeltaTable.isDeltaTable(spark, path);
    }

    static long version(SparkSession spark, String path) {
      return DeltaTable.forPath(spark, path).history(1).select("version").first().getLong(0);
    }

    static void merge(SparkSession spark, String path, Dataset<Row> source, String deleteCol,
        Map<String, String> assignments) {
      DeltaTable.forPath(spark, path).as("t")
          .merge(source.as("s"), "t.id = s.id")
          .whenMatched("s.`" + deleteCol + "`").delete()
          .whenMatched().updateExpr(assignments)
          .whenNotMatched("NOT s.`" + deleteCol + "`").insertExpr(assignments)
          .execute();
    }
  }
}

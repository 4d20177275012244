package dev.peftembed.cli;

import dev.peftembed.job.DeltaLake;
import dev.peftembed.job.Partitions;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Option;

/** The Spark flags of every command that runs a Spark job, and the session's lifetime. */
final class SparkFlags {
  @Option(names = "--master", defaultValue = "local[*]", description = "Spark master (default: ${DEFAULT-VALUE}); "
      + "ignored under spark-submit, which sets its own")
  String master;

  @Option(names = "--conf", paramLabel = "KEY=VALUE", description = "extra Spark configuration, repeatable")
  Map<String, String> sparkConf = new LinkedHashMap<>();

  @Option(names = "--partitions", paramLabel = "auto|N", defaultValue = "auto", description = "partitions the rows "
      + "are spread over; auto: 3 per task slot, at most " + Partitions.MAX_ROWS + " rows each (default: "
      + "${DEFAULT-VALUE})")
  String partitions;

  /** Whether the job writes Delta Lake: the session then starts with Delta's extension and catalog. */
  boolean deltaLake;

  /**
   * @return {@code --partitions}
   * @throws IllegalArgumentException when it is neither auto nor a positive number
   */
  Partitions partitions() {
    return Partitions.parse(partitions);
  }

  /**
   * Runs {@code job} on the running session if there is one, else on a new one that is stopped afterwards: embedded
   * in a larger application, the session is the host's.
   */
  <T> T withSession(Function<SparkSession, T> job) {
    // A bad value fails before a session is started for nothing.
    partitions();
    boolean ownSession = SparkSession.getDefaultSession().isEmpty();
    SparkSession spark = session();
    try {
      return job.apply(spark);
    } finally {
      if (ownSession) {
        spark.stop();
      }
    }
  }

  private SparkSession session() {
    SparkSession.Builder builder = SparkSession.builder().appName("peft-embed")
        .config("spark.ui.showConsoleProgress", "false");
    if (System.getProperty("spark.master") == null) {
      if (!master.startsWith("local")) {
        // A plain JVM would start the job, but executors would not find these classes: they need the app jar.
        throw new IllegalArgumentException("--master " + master + " needs the application jar on the executors: "
            + "give --master on the command line of scripts/peft-embed (it runs spark-submit), or use spark-submit");
      }
      builder.master(master);
    }
    if (deltaLake) {
      // Static settings: they must be there when the session starts. --conf still wins.
      builder.config("spark.sql.extensions", DeltaLake.EXTENSION)
          .config("spark.sql.catalog.spark_catalog", DeltaLake.CATALOG);
    }
    sparkConf.forEach(builder::config);
    return builder.getOrCreate();
  }
}

package dev.peftembed.job;

import java.util.function.Supplier;
import org.apache.spark.sql.SparkSession;

/**
 * The Spark job groups the embed job runs its jobs in, so that progress, the cleanup after a failure, and a host
 * application can tell its jobs apart. Every job group the job sets goes through {@link #run}.
 */
enum JobGroup {
  /** The jobs that embed rows and write them. */
  EMBED("peft-embed-embed"),
  /** The driver's counting and checking jobs that read the input or an existing output. */
  COUNT("peft-embed-count"),
  /** The jobs that read the committed output back for the summary. */
  VERIFY("peft-embed-verify");

  private final String id;

  JobGroup(String id) {
    this.id = id;
  }

  /** @return the group id Spark reports the jobs under */
  String id() {
    return id;
  }

  /**
   * Runs driver-side actions in this group, then clears it even when they fail: the group belongs to the calling
   * thread, and a host application's later jobs on that thread must not inherit (or be cancelled with) ours.
   *
   * @param description what the jobs do, as the Spark UI shows it
   */
  <T> T run(SparkSession spark, String description, Supplier<T> actions) {
    spark.sparkContext().setJobGroup(id, description, false);
    try {
      return actions.get();
    } finally {
      spark.sparkContext().clearJobGroup();
    }
  }

  /** Runs driver-side actions that return nothing in this group, as {@link #run(SparkSession, String, Supplier)}. */
  void run(SparkSession spark, String description, Runnable actions) {
    run(spark, description, () -> {
      actions.run();
      return null;
    });
  }
}

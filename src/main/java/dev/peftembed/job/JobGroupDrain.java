package dev.peftembed.job;

import org.apache.spark.SparkJobInfo;
import org.apache.spark.SparkStageInfo;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.JavaSparkStatusTracker;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Waits for the tasks of a failed job to stop. When a job fails, Spark aborts the commit and returns at once, while
 * the job's other running tasks are killed asynchronously: one that is still writing can create files after the
 * cleanup. Cleaning up after this wait leaves nothing behind.
 */
final class JobGroupDrain {
  private static final Logger LOG = LoggerFactory.getLogger(JobGroupDrain.class);
  private static final long POLL_MS = 50;

  private JobGroupDrain() {}

  /** Returns once no task of the group's jobs runs, or after {@code timeoutMs}, with a warning. */
  static void await(SparkSession spark, JobGroup group, long timeoutMs) {
    JavaSparkStatusTracker tracker = JavaSparkContext.fromSparkContext(spark.sparkContext()).statusTracker();
    long deadline = System.currentTimeMillis() + timeoutMs;
    while (activeTasks(tracker, group.id()) > 0) {
      if (System.currentTimeMillis() > deadline) {
        LOG.warn("tasks of the failed job still run after {} ms; cleaning up anyway", timeoutMs);
        return;
      }
      try {
        Thread.sleep(POLL_MS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  private static int activeTasks(JavaSparkStatusTracker tracker, String group) {
    int active = 0;
    for (int jobId : tracker.getJobIdsForGroup(group)) {
      SparkJobInfo job = tracker.getJobInfo(jobId);
      if (job == null) {
        continue;
      }
      for (int stageId : job.stageIds()) {
        SparkStageInfo stage = tracker.getStageInfo(stageId);
        active += stage == null ? 0 : stage.numActiveTasks();
      }
    }
    return active;
  }
}

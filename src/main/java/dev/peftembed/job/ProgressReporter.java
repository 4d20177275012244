package dev.peftembed.job;

import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.spark.SparkContext;
import org.apache.spark.scheduler.AccumulableInfo;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerExecutorMetricsUpdate;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.scheduler.StageInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple4;
import scala.jdk.javaapi.CollectionConverters;

/**
 * Rows done, rows per second and ETA of the embedding job, logged a few times a minute.
 *
 * <p>Progress is the number of records read, from input files or from a shuffle, by the tasks of the job group's
 * embedding stages, which stream rows into the encoder one window at a time: finished tasks report it at their end,
 * running tasks in executor heartbeats. A stage embeds when it runs the {@code mapPartitions} of {@link
 * dev.peftembed.spark.PeftEmbedder#transform} (an RDD made by
 * Spark SQL's MapPartitions operator); the others (reading the input before it is spread over partitions, the sides
 * of a join, aggregating counts) embed nothing and are not counted. It also records which executors ran the
 * embedding tasks.
 */
public final class ProgressReporter extends SparkListener implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ProgressReporter.class);
  /** The Spark SQL operator that {@code Dataset.mapPartitions}, which {@code PeftEmbedder.transform} uses, runs as. */
  private static final String EMBEDDING_OPERATOR = "MapPartitions";
  private static final Set<String> RECORDS_READ = Set.of("internal.metrics.input.recordsRead",
      "internal.metrics.shuffle.read.recordsRead");

  private final SparkContext sc;
  private final String jobGroup;
  private final long totalRows;
  private final long startNanos = System.nanoTime();
  private final Set<Integer> stages = ConcurrentHashMap.newKeySet();
  private final Set<String> executors = ConcurrentHashMap.newKeySet();
  /** Per running task, its latest value of each {@link #RECORDS_READ} metric. */
  private final Map<Long, Map<String, Long>> runningTaskRows = new ConcurrentHashMap<>();
  private final AtomicLong finishedRows = new AtomicLong();
  private final ScheduledExecutorService ticker;

  /**
   * Registers itself with the context and starts logging every {@code intervalSeconds}.
   *
   * @param jobGroup only jobs of this group count
   * @param totalRows the rows to embed, for percentages and ETA
   */
  public ProgressReporter(SparkContext sc, String jobGroup, long totalRows, long intervalSeconds) {
    this.sc = sc;
    this.jobGroup = jobGroup;
    this.totalRows = totalRows;
    sc.addSparkListener(this);
    ticker = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "peft-embed-progress");
      t.setDaemon(true);
      return t;
    });
    ticker.scheduleAtFixedRate(this::report, intervalSeconds, intervalSeconds, TimeUnit.SECONDS);
  }

  @Override
  public void onJobStart(SparkListenerJobStart jobStart) {
    String group = jobStart.properties() == null ? null : jobStart.properties().getProperty("spark.jobGroup.id");
    if (jobGroup.equals(group)) {
      for (StageInfo stage : CollectionConverters.asJava(jobStart.stageInfos())) {
        if (embeds(stage)) {
          stages.add(stage.stageId());
        }
      }
    }
  }

  private static boolean embeds(StageInfo stage) {
    return CollectionConverters.asJava(stage.rddInfos()).stream()
        .anyMatch(rdd -> rdd.scope().isDefined() && EMBEDDING_OPERATOR.equals(rdd.scope().get().name()));
  }

  @Override
  public void onTaskEnd(SparkListenerTaskEnd taskEnd) {
    if (!stages.contains(taskEnd.stageId())) {
      return;
    }
    runningTaskRows.remove(taskEnd.taskInfo().taskId());
    if (taskEnd.taskInfo().successful() && taskEnd.taskMetrics() != null) {
      finishedRows.addAndGet(taskEnd.taskMetrics().inputMetrics().recordsRead()
          + taskEnd.taskMetrics().shuffleReadMetrics().recordsRead());
      executors.add(taskEnd.taskInfo().executorId());
    }
  }

  @Override
  public void onExecutorMetricsUpdate(SparkListenerExecutorMetricsUpdate update) {
    for (Tuple4<Object, Object, Object, scala.collection.immutable.Seq<AccumulableInfo>> task
        : CollectionConverters.asJava(update.accumUpdates())) {
      if (!stages.contains((Integer) task._2())) {
        continue;
      }
      for (AccumulableInfo info : CollectionConverters.asJava(task._4())) {
        if (info.name().isDefined() && RECORDS_READ.contains(info.name().get()) && info.update().isDefined()) {
          runningTaskRows.computeIfAbsent((Long) task._1(), id -> new ConcurrentHashMap<>())
              .put(info.name().get(), ((Number) info.update().get()).longValue());
        }
      }
    }
  }

  /** @return rows read into the encoder so far */
  public long rowsDone() {
    long running = runningTaskRows.values().stream()
        .mapToLong(metrics -> metrics.values().stream().mapToLong(Long::longValue).sum()).sum();
    return Math.min(totalRows, finishedRows.get() + running);
  }

  /** @return distinct executors that completed embedding tasks */
  public int executors() {
    return executors.size();
  }

  private void report() {
    long done = rowsDone();
    double seconds = (System.nanoTime() - startNanos) / 1e9;
    double rate = done / Math.max(seconds, 1e-9);
    String eta = rate > 0 && done < totalRows ? String.format(Locale.ROOT, "%.0f s", (totalRows - done) / rate) : "-";
    LOG.info(String.format(Locale.ROOT, "progress: %,d / %,d rows (%.1f%%), %.0f rows/s, ETA %s", done, totalRows,
        totalRows == 0 ? 100.0 : 100.0 * done / totalRows, rate, eta));
  }

  /** Stops logging and unregisters. */
  @Override
  public void close() {
    ticker.shutdownNow();
    sc.removeSparkListener(this);
  }
}

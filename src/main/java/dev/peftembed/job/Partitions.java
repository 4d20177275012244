package dev.peftembed.job;

import java.util.Locale;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How many partitions a job spreads its rows over: {@link #AUTO} sizes them by the rows and the cluster's task slots,
 * {@link #of} fixes the number.
 *
 * <p>The auto rule: {@code max(3 × slots, ⌈rows / 5000⌉)} partitions, never more than there are rows. Three waves
 * per slot keep every slot busy and let the others take over a slow task's share; at most 5000 rows per partition
 * bound what a lost or retried task has to embed again. An input whose splits already meet both bounds is kept as
 * it is; otherwise its rows are spread round-robin (one shuffle of the texts, cheap beside embedding them).
 *
 * @param count the number of partitions, or 0 for auto
 */
public record Partitions(int count) {
  private static final Logger LOG = LoggerFactory.getLogger(Partitions.class);

  /** Waves of tasks per slot that auto plans for. */
  public static final int WAVES = 3;

  /** Most rows auto puts in one partition. */
  public static final int MAX_ROWS = 5000;

  /** Sized by the rows and the task slots. */
  public static final Partitions AUTO = new Partitions(0);

  public Partitions {
    if (count < 0) {
      throw new IllegalArgumentException("partitions must be auto or a positive number, got " + count);
    }
  }

  /** @param count a positive number of partitions */
  public static Partitions of(int count) {
    if (count < 1) {
      throw new IllegalArgumentException("partitions must be auto or a positive number, got " + count);
    }
    return new Partitions(count);
  }

  /**
   * Reads {@code auto} or a positive number.
   *
   * @throws IllegalArgumentException for anything else
   */
  public static Partitions parse(String value) {
    String v = value.trim().toLowerCase(Locale.ROOT);
    if (v.equals("auto")) {
      return AUTO;
    }
    int n;
    try {
      n = Integer.parseInt(v);
    } catch (NumberFormatException e) {
      n = 0;
    }
    if (n < 1) {
      throw new IllegalArgumentException("--partitions must be auto or a positive number, got \"" + value + "\"");
    }
    return new Partitions(n);
  }

  /** @return whether the number is left to the auto rule */
  public boolean isAuto() {
    return count == 0;
  }

  @Override
  public String toString() {
    return isAuto() ? "auto" : Integer.toString(count);
  }

  /** The auto rule's number of partitions for {@code rows} rows on {@code slots} task slots. */
  public static int auto(long rows, int slots) {
    long wanted = Math.max((long) Math.max(1, slots) * WAVES, (rows + MAX_ROWS - 1) / MAX_ROWS);
    return (int) Math.max(1, Math.min(Math.min(wanted, rows), Integer.MAX_VALUE));
  }

  /**
   * The task slots of the application: its cores now (Spark's default parallelism, which is the local thread count
   * on local masters), or the cores its configuration asks for if that is more, since executors that register later
   * take tasks of later waves; each divided by the cores a task takes.
   */
  public static int slots(SparkContext sc) {
    SparkConf conf = sc.getConf();
    long configured = Math.max(conf.getLong("spark.cores.max", 0),
        conf.getLong("spark.executor.instances", 0) * conf.getLong("spark.executor.cores", 1));
    long cores = Math.max(sc.defaultParallelism(), configured);
    return (int) Math.max(1, Math.min(Integer.MAX_VALUE, cores / Math.max(1, conf.getInt("spark.task.cpus", 1))));
  }

  /**
   * The partitions for {@code rows} rows now in {@code splits} partitions on {@code slots} task slots: this number
   * when it is fixed; with auto, {@code splits} when they meet the rule's bounds, else the rule's number.
   */
  public int choose(long rows, int splits, int slots) {
    if (!isAuto()) {
      return count;
    }
    int wanted = auto(rows, slots);
    return splits >= wanted && (rows + splits - 1) / splits <= MAX_ROWS ? splits : wanted;
  }

  /**
   * Spreads a table read from files as {@link #choose} says, and logs the choice in one line. Call it after any column
   * whose value depends on row positions (generated ids) is added: the spread reorders rows.
   *
   * @param rows the table's row count, already known to the caller
   * @return the table, repartitioned unless its partitions are kept
   */
  public Dataset<Row> spread(Dataset<Row> table, long rows) {
    // A plan of file scans (and RDDs) knows its partitions without running anything; one with a shuffle under
    // adaptive execution would run it here, outside the caller's job group: such tables go through spreadShuffled.
    int splits = table.rdd().getNumPartitions();
    int slots = slots(table.sparkSession().sparkContext());
    int planned = choose(rows, splits, slots);
    LOG.info("{} rows in {} input split{} → {} partition{} for {} task slot{} (--partitions {}{})", rows, splits,
        plural(splits), planned, plural(planned), slots, plural(slots), this, planned == splits ? ", input kept" : "");
    return planned == splits ? table : table.repartition(planned);
  }

  /**
   * Spreads the output of a join or another shuffle, whose partitions follow the shuffle's settings rather than the
   * rows: always repartitioned, to this number or the auto rule's.
   *
   * @param rows the table's row count, already known to the caller
   */
  public Dataset<Row> spreadShuffled(Dataset<Row> table, long rows) {
    int slots = slots(table.sparkSession().sparkContext());
    int planned = isAuto() ? auto(rows, slots) : count;
    LOG.info("{} rows → {} partition{} for {} task slot{} (--partitions {})", rows, planned, plural(planned), slots,
        plural(slots), this);
    return table.repartition(planned);
  }

  private static String plural(long n) {
    return n == 1 ? "" : "s";
  }
}

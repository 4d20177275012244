package dev.peftembed.testkit

import java.util.concurrent.ConcurrentLinkedQueue
import org.apache.spark.scheduler.{SparkListener, SparkListenerJobStart}
import org.apache.spark.sql.SparkSession
import org.scalatest.{BeforeAndAfterAll, Suite}

/**
 * One local[2] SparkSession for every suite of the test JVM: starting Spark takes seconds, and the executor cache
 * under test lives as long as the JVM anyway. Spark's own shutdown hook stops it.
 */
object LocalSpark {
  lazy val session: SparkSession = SparkSession.builder()
    .master("local[2]")
    .appName("peft-embed-tests")
    .config("spark.ui.enabled", "false")
    .config("spark.sql.shuffle.partitions", "4")
    .config("spark.driver.host", "127.0.0.1")
    .config("spark.driver.bindAddress", "127.0.0.1")
    // Delta's extension and catalog are static settings: the embed job's Delta tests need them from the start.
    .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
    .config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog")
    .getOrCreate()
}

/**
 * Mixes the shared local[2] session into a suite, started before its first test: Spark ML's readers and writers look
 * for an active session and would otherwise try to create one without a master.
 */
trait LocalSparkSession extends BeforeAndAfterAll { this: Suite =>
  protected def spark: SparkSession = LocalSpark.session

  override protected def beforeAll(): Unit = {
    LocalSpark.session
    super.beforeAll()
  }
}

/**
 * Records the job group of every job that starts, so a test can prove that no job of its group ran. Listener events
 * arrive asynchronously: run a marker job afterwards and wait for it with [[awaitGroup]] before asserting.
 */
final class JobGroups extends SparkListener {
  private val groups = new ConcurrentLinkedQueue[String]()

  override def onJobStart(event: SparkListenerJobStart): Unit =
    groups.add(Option(event.properties).flatMap(p => Option(p.getProperty("spark.jobGroup.id"))).getOrElse(""))

  def seen(group: String): Boolean = groups.contains(group)

  /** Waits until a job of `group` has been seen, or fails after `timeoutMs`. */
  def awaitGroup(group: String, timeoutMs: Long = 10000): Unit = {
    val deadline = System.currentTimeMillis() + timeoutMs
    while (!seen(group)) {
      if (System.currentTimeMillis() > deadline) throw new AssertionError(s"no job of group $group was seen")
      Thread.sleep(20)
    }
  }
}

package dev.peftembed.spark

import java.util.concurrent.atomic.AtomicInteger
import org.scalatest.funsuite.AnyFunSuite
import scala.jdk.CollectionConverters._

class TaskDevicesSuite extends AnyFunSuite {

  private def select(requested: String, taskGpus: Seq[String], engineGpus: Int, partition: Int = 0): String =
    TaskDevices.select(requested, taskGpus.asJava, () => engineGpus, partition)

  private def error(requested: String, taskGpus: Seq[String], engineGpus: Int): String =
    intercept[IllegalArgumentException](select(requested, taskGpus, engineGpus)).getMessage

  test("cpu is the CPU whatever Spark assigned, and does not start the engine to ask") {
    val asked = new AtomicInteger()
    val device = TaskDevices.select("cpu", List("0").asJava, () => { asked.incrementAndGet(); 2 }, 0)
    assert(device == "cpu")
    assert(asked.get() == 0)
  }

  test("auto and gpu take the GPU Spark assigned to the task") {
    assert(select("auto", Seq("1"), 2) == "gpu:1")
    assert(select("gpu", Seq("0"), 2) == "gpu:0")
    assert(select("AUTO", Seq("1", "0"), 2) == "gpu:1", "the first of several assigned GPUs")
  }

  test("without an assignment, tasks spread over the GPUs libtorch sees, by partition") {
    assert(select("auto", Nil, 2, partition = 0) == "gpu:0")
    assert(select("auto", Nil, 2, partition = 3) == "gpu:1")
    assert(select("gpu", Nil, 4, partition = 6) == "gpu:2")
    assert(select("auto", Nil, 1, partition = 5) == "gpu:0")
  }

  test("auto falls back to the CPU only when there is no GPU at all") {
    assert(select("auto", Nil, 0) == "cpu")
  }

  test("gpu without any GPU is a clear error") {
    val message = error("gpu", Nil, 0)
    assert(message.contains("device gpu was asked for"), message)
    assert(message.contains("spark.task.resource.gpu.amount"), message)
  }

  test("a GPU Spark assigned but libtorch cannot use is an error, not a silent CPU run") {
    assert(error("auto", Seq("0"), 0).contains("libtorch sees no GPU"))
    assert(error("gpu", Seq("3"), 2).contains("sees only 2 GPU(s)"))
    assert(error("auto", Seq("GPU-5e2b"), 2).contains("not a CUDA device index"))
  }

  test("an unknown device is rejected") {
    assert(error("tpu", Nil, 0).contains("auto, cpu or gpu"))
  }
}

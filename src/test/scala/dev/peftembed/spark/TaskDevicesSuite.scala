package dev.peftembed.spark

import dev.peftembed.embed.DeviceChoice
import java.util.concurrent.atomic.AtomicInteger
import org.scalatest.funsuite.AnyFunSuite
import scala.jdk.CollectionConverters._

class TaskDevicesSuite extends AnyFunSuite {

  private def select(requested: String, taskGpus: Seq[String], engineGpus: Int, partition: Int = 0): String =
    TaskDevices.select(DeviceChoice.parse(requested), taskGpus.asJava, () => engineGpus, partition).toString

  private def error(requested: String, taskGpus: Seq[String], engineGpus: Int): String =
    intercept[IllegalArgumentException](select(requested, taskGpus, engineGpus)).getMessage

  test("cpu is the CPU whatever Spark assigned, and does not start the engine to ask") {
    val asked = new AtomicInteger()
    val device = TaskDevices.select(DeviceChoice.CPU, List("0").asJava, () => { asked.incrementAndGet(); 2 }, 0)
    assert(device == DeviceChoice.CPU)
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

  test("gpu:N is GPU N of the executor, whatever Spark assigned, and an error where libtorch does not see it") {
    assert(select("gpu:1", Nil, 2) == "gpu:1")
    assert(select("gpu:0", Seq("1"), 2) == "gpu:0")
    assert(error("gpu:2", Nil, 2).contains("device gpu:2 was asked for but libtorch on this executor sees only 2"))
    assert(error("gpu:0", Nil, 0).contains("sees no GPU"))
  }

  test("an unknown device is rejected, naming the values the command line accepts too") {
    assert(error("tpu", Nil, 0) == "device must be auto, cpu, gpu or gpu:N, got \"tpu\"")
  }
}

package dev.peftembed.spark;

import dev.peftembed.embed.DeviceChoice;
import java.util.List;
import java.util.function.IntSupplier;

/**
 * Picks the device one Spark task encodes on, from what Spark assigned to the task and what libtorch sees. Pure, so
 * that the rules are tested on machines without a GPU.
 *
 * <ul>
 *   <li>{@code cpu}: the CPU.
 *   <li>{@code gpu:N}: GPU N of the executor, whatever Spark assigned; an error if libtorch does not see it.
 *   <li>{@code auto} and {@code gpu}: the GPU Spark assigned to the task ({@code spark.task.resource.gpu.amount}),
 *       if any; else a GPU libtorch sees, spread over tasks by partition id; else the CPU for {@code auto}, and an
 *       error for {@code gpu}.
 * </ul>
 *
 * <p>The result is part of the executor cache's key, so an executor with several GPUs holds one model per GPU.
 * Spark's GPU addresses are taken as CUDA device indices, which holds when the discovery script reports the
 * indices CUDA uses in the executor's process (the usual {@code nvidia-smi} based script does).
 */
public final class TaskDevices {
  private TaskDevices() {}

  /**
   * @param requested the device the stage was given
   * @param taskGpus the addresses of the GPUs Spark assigned to the task, empty when none
   * @param engineGpuCount how many GPUs libtorch sees; asked only when needed, since it starts the engine
   * @param partitionId the task's partition, to spread unassigned tasks over the GPUs
   * @return the CPU or one GPU by index
   * @throws IllegalArgumentException when a GPU is required and none is usable
   */
  public static DeviceChoice select(DeviceChoice requested, List<String> taskGpus, IntSupplier engineGpuCount,
      int partitionId) {
    if (requested.kind() == DeviceChoice.Kind.CPU) {
      return DeviceChoice.CPU;
    }
    if (requested.index() >= 0) {
      return fixed(requested.index(), engineGpuCount.getAsInt());
    }
    if (!taskGpus.isEmpty()) {
      return assigned(taskGpus.get(0), engineGpuCount.getAsInt());
    }
    int visible = engineGpuCount.getAsInt();
    if (visible > 0) {
      return DeviceChoice.gpu(Math.floorMod(partitionId, visible));
    }
    if (requested.kind() == DeviceChoice.Kind.AUTO) {
      return DeviceChoice.CPU;
    }
    throw new IllegalArgumentException("device gpu was asked for but this executor has no GPU: Spark assigned none "
        + "to the task (spark.executor.resource.gpu.amount, spark.task.resource.gpu.amount) and libtorch sees none "
        + "(is the CUDA build of libtorch installed? see README, GPU)");
  }

  private static DeviceChoice fixed(int index, int visible) {
    if (index >= visible) {
      throw new IllegalArgumentException("device gpu:" + index + " was asked for but libtorch on this executor sees "
          + (visible == 0 ? "no GPU (is the CUDA build of libtorch installed? see README, GPU)"
              : "only " + visible + " GPU(s)"));
    }
    return DeviceChoice.gpu(index);
  }

  private static DeviceChoice assigned(String address, int visible) {
    int index;
    try {
      index = Integer.parseInt(address.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("Spark assigned the GPU address \"" + address + "\" to this task, which is "
          + "not a CUDA device index; make the GPU discovery script report indices");
    }
    // A GPU that Spark reserved for this task but libtorch cannot use is a misconfigured executor (usually the CPU
    // build of libtorch): running on the CPU instead would hide it behind a many-fold slowdown.
    if (visible == 0) {
      throw new IllegalArgumentException("Spark assigned GPU " + index + " to this task but libtorch sees no GPU "
          + "(the executor has the CPU build of libtorch; see README, GPU); set device=cpu to run on the CPU");
    }
    if (index < 0 || index >= visible) {
      throw new IllegalArgumentException("Spark assigned GPU " + index + " to this task but libtorch sees only "
          + visible + " GPU(s); check CUDA_VISIBLE_DEVICES against the GPU discovery script");
    }
    return DeviceChoice.gpu(index);
  }
}

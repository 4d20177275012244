package dev.peftembed.embed;

import ai.djl.Device;
import dev.peftembed.runtime.DjlRuntime;
import java.io.Serializable;
import java.util.Locale;

/**
 * Where the model runs: {@code auto} (a GPU if there is one, else the CPU), {@code cpu}, {@code gpu} (the first
 * GPU, or the one Spark assigned to the task) or {@code gpu:N}. The command line and the Spark stage accept the same
 * values.
 *
 * @param kind auto, cpu or gpu
 * @param index the GPU index of {@code gpu:N}, or -1 when no index was given
 */
public record DeviceChoice(Kind kind, int index) implements Serializable {

  /** The accepted values, as error messages and option docs list them. */
  public static final String ALLOWED = "auto, cpu, gpu or gpu:N";

  /** The CPU. */
  public static final DeviceChoice CPU = new DeviceChoice(Kind.CPU, -1);

  /** The kinds of device. */
  public enum Kind {
    /** A GPU when there is one, else the CPU. */
    AUTO,
    /** The CPU. */
    CPU,
    /** A GPU, required. */
    GPU
  }

  /** Checks that only {@code gpu} carries an index. */
  public DeviceChoice {
    if (kind == null || index < -1 || (index >= 0 && kind != Kind.GPU)) {
      throw new IllegalArgumentException("device must be " + ALLOWED + ", got kind " + kind + " index " + index);
    }
  }

  /**
   * @param value auto, cpu, gpu or gpu:N, in any case; {@code null} is auto
   * @throws IllegalArgumentException with the accepted forms
   */
  public static DeviceChoice parse(String value) {
    String v = value == null ? "auto" : value.trim().toLowerCase(Locale.ROOT);
    switch (v) {
      case "auto":
        return new DeviceChoice(Kind.AUTO, -1);
      case "cpu":
        return CPU;
      case "gpu":
        return new DeviceChoice(Kind.GPU, -1);
      default:
        break;
    }
    if (v.startsWith("gpu:")) {
      try {
        int i = Integer.parseInt(v.substring(4));
        if (i >= 0) {
          return gpu(i);
        }
      } catch (NumberFormatException ignored) {
        // Falls through to the message below.
      }
    }
    throw new IllegalArgumentException("device must be " + ALLOWED + ", got \"" + value + "\"");
  }

  /** @return GPU {@code index} */
  public static DeviceChoice gpu(int index) {
    return new DeviceChoice(Kind.GPU, index);
  }

  /**
   * @param gpuCount GPUs the engine sees
   * @return the device to use
   * @throws IllegalArgumentException if a GPU is required and there is none
   */
  public Device resolve(int gpuCount) {
    return switch (kind) {
      case CPU -> Device.cpu();
      case AUTO -> gpuCount > 0 ? Device.gpu(0) : Device.cpu();
      case GPU -> {
        int i = Math.max(index, 0);
        if (i >= gpuCount) {
          throw new IllegalArgumentException("device " + this + " was asked for but "
              + (gpuCount == 0 ? "libtorch sees no GPU (is the CUDA build of libtorch installed? see README, GPU)"
                  : "libtorch sees only " + gpuCount + " GPU(s)"));
        }
        yield Device.gpu(i);
      }
    };
  }

  /** @return the device on this machine's engine */
  public Device resolve() {
    return resolve(kind == Kind.CPU ? 0 : DjlRuntime.pytorch().getGpuCount());
  }

  /** @return the form {@link #parse} reads: {@code auto}, {@code cpu}, {@code gpu} or {@code gpu:N} */
  @Override
  public String toString() {
    return kind.name().toLowerCase(Locale.ROOT) + (index >= 0 ? ":" + index : "");
  }
}

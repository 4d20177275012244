package dev.peftembed.embed;

import ai.djl.Device;
import dev.peftembed.encoder.DjlRuntime;
import java.util.Locale;

/**
 * Where the model runs: {@code auto} (a GPU if the engine sees one, else the CPU), {@code cpu}, {@code gpu}
 * (the first GPU) or {@code gpu:N}.
 *
 * @param kind auto, cpu or gpu
 * @param index the GPU index, or -1 for "first" / not applicable
 */
public record DeviceChoice(String kind, int index) {

  /** @throws IllegalArgumentException with the accepted forms */
  public static DeviceChoice parse(String value) {
    String v = value == null ? "auto" : value.trim().toLowerCase(Locale.ROOT);
    if (v.equals("auto") || v.equals("cpu") || v.equals("gpu")) {
      return new DeviceChoice(v, -1);
    }
    if (v.startsWith("gpu:")) {
      try {
        int i = Integer.parseInt(v.substring(4));
        if (i >= 0) {
          return new DeviceChoice("gpu", i);
        }
      } catch (NumberFormatException ignored) {
        // Falls through to the message below.
      }
    }
    throw new IllegalArgumentException("device must be auto, cpu, gpu or gpu:N, got \"" + value + "\"");
  }

  /**
   * @param gpuCount GPUs the engine sees
   * @return the device to use
   * @throws IllegalArgumentException if a GPU is required and there is none
   */
  public Device resolve(int gpuCount) {
    return switch (kind) {
      case "cpu" -> Device.cpu();
      case "auto" -> gpuCount > 0 ? Device.gpu(Math.max(index, 0)) : Device.cpu();
      default -> {
        int i = Math.max(index, 0);
        if (i >= gpuCount) {
          throw new IllegalArgumentException("device " + (index < 0 ? "gpu" : "gpu:" + index) + " was asked for but "
              + (gpuCount == 0 ? "libtorch sees no GPU (is the CUDA build of libtorch installed? see README, GPU)"
                  : "libtorch sees only " + gpuCount + " GPU(s)"));
        }
        yield Device.gpu(i);
      }
    };
  }

  /** @return the device on this machine's engine */
  public Device resolve() {
    return resolve(DjlRuntime.pytorch().getGpuCount());
  }
}

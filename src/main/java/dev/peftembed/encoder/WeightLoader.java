package dev.peftembed.encoder;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.peftembed.model.Checkpoint;
import dev.peftembed.model.Tensor;

/**
 * A view of a checkpoint under one key prefix, placing each tensor it reads on the model's device and dtype.
 * Modules take a loader scoped to their own name, as in {@code loader.at("attention").at("self")}, so the module
 * tree mirrors the checkpoint keys.
 */
public final class WeightLoader {
  private final Checkpoint checkpoint;
  private final NDManager manager;
  private final DataType dtype;
  private final WeightOverlay overlay;
  private final String prefix;

  /**
   * @param checkpoint where tensors come from
   * @param manager owns every array created; it lives as long as the model
   * @param dtype the compute dtype (float32, or float16 on GPU)
   */
  public WeightLoader(Checkpoint checkpoint, NDManager manager, DataType dtype) {
    this(checkpoint, manager, dtype, WeightOverlay.NONE);
  }

  /**
   * @param overlay edits each tensor after it is read, before any module uses it (a merged LoRA adapter)
   */
  public WeightLoader(Checkpoint checkpoint, NDManager manager, DataType dtype, WeightOverlay overlay) {
    this(checkpoint, manager, dtype, overlay, "");
  }

  private WeightLoader(Checkpoint checkpoint, NDManager manager, DataType dtype, WeightOverlay overlay,
      String prefix) {
    this.checkpoint = checkpoint;
    this.manager = manager;
    this.dtype = dtype;
    this.overlay = overlay;
    this.prefix = prefix;
  }

  /** @return a loader for the sub-module {@code name} */
  public WeightLoader at(String name) {
    return new WeightLoader(checkpoint, manager, dtype, overlay, prefix + name + ".");
  }

  /** @return a loader for the indexed sub-module {@code name.index} */
  public WeightLoader at(String name, int index) {
    return at(name + "." + index);
  }

  /** @return the float32 tensor {@code prefix + name}, shape-checked, after the overlay, still on the heap */
  public Tensor tensor(String name, long... shape) {
    return overlay.apply(prefix + name, checkpoint.read(prefix + name, shape));
  }

  /** @return the tensor {@code prefix + name} on the device, shape-checked */
  public NDArray array(String name, long... shape) {
    return toDevice(tensor(name, shape).data(), shape);
  }

  /** @return {@code values} as an array of the model's device and dtype */
  public NDArray toDevice(float[] values, long... shape) {
    return toDevice(manager, dtype, values, shape);
  }

  /**
   * Creates an array owned by {@code manager} from Java values.
   *
   * <p>On the CPU, DJL hands libtorch the Java buffer itself, kept alive only by the array that was created from it;
   * and {@code toType} to the same dtype returns an alias, not a copy. So the created array is kept as it is for
   * float32, and closed only after a conversion that really copies: closing it under a live alias would let the GC
   * free memory libtorch still reads (seen as sporadic NaN).
   */
  public static NDArray toDevice(NDManager manager, DataType dtype, float[] values, long... shape) {
    NDArray a = manager.create(values, new Shape(shape));
    if (dtype == DataType.FLOAT32) {
      return a;
    }
    NDArray cast = a.toType(dtype, false);
    a.close();
    return cast;
  }
}

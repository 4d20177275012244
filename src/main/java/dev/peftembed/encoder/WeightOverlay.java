package dev.peftembed.encoder;

import dev.peftembed.model.Tensor;

/**
 * Changes tensors between the checkpoint and the model: what an adapter that edits the base weights (LoRA, merged)
 * plugs into {@link WeightLoader}. It sees each tensor in float32 on the heap, under its Hugging Face name, before
 * any module rearranges it (the fused Q/K/V projection, the 1/√d folded into the query rows) and before the cast to
 * the compute dtype, so an edit made here lands where the checkpoint's own values would.
 */
@FunctionalInterface
public interface WeightOverlay {
  /** The checkpoint as it is. */
  WeightOverlay NONE = (name, stored) -> stored;

  /**
   * @param name the Hugging Face parameter name, e.g. {@code encoder.layer.0.attention.self.query.weight}
   * @param stored the tensor as the checkpoint holds it, shape-checked
   * @return the tensor the model uses instead, of the same shape
   */
  Tensor apply(String name, Tensor stored);
}

package dev.peftembed.encoder;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/** The attention masks every architecture builds the same way from the tokenizer's mask. */
public final class AttentionMasks {
  private AttentionMasks() {}

  /**
   * The mask over virtual and real tokens: M ones, attended by every row, before the tokenizer's mask.
   *
   * @param realMask [B, N] int64, 1 attended and 0 padding
   * @param virtualTokens M, 0 for none
   * @return [B, M+N] in {@code dtype}, allocated from {@code realMask}'s manager
   */
  public static NDArray withVirtualTokens(NDArray realMask, long virtualTokens, DataType dtype) {
    if (virtualTokens == 0) {
      return realMask.toType(dtype, false);
    }
    try (NDArray ones = realMask.getManager().ones(new Shape(realMask.getShape().get(0), virtualTokens), dtype);
        NDArray real = realMask.toType(dtype, false)) {
      return NDArrays.concat(new NDList(ones, real), 1);
    }
  }

  /**
   * The additive form the attention kernel takes: 0 where attended, the dtype's lowest finite value where masked, as
   * transformers' extended attention mask ({@code (1.0 - mask) * torch.finfo(dtype).min}).
   *
   * @param mask [B, K] in {@code dtype}, 1 attended and 0 masked
   * @return [B, 1, 1, K]
   */
  public static NDArray additiveBias(NDArray mask, DataType dtype) {
    float lowest = dtype == DataType.FLOAT16 ? -65504f : -Float.MAX_VALUE;
    return mask.sub(1).muli(-lowest).reshape(mask.getShape().get(0), 1, 1, mask.getShape().get(1));
  }
}

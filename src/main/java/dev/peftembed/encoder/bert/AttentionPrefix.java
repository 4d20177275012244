package dev.peftembed.encoder.bert;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.peftembed.encoder.WeightLoader;
import dev.peftembed.model.BertConfig;
import dev.peftembed.model.Tensor;
import java.util.Arrays;

/**
 * Prefix tuning's trained keys and values: P of each, per layer and head, placed before the real tokens' own keys
 * and values in every self-attention.
 *
 * <p>PEFT cuts the saved [P, layers·2·H] table as {@code view(B, P, 2·layers, heads, d).permute(2, 0, 3, 1, 4)
 * .split(2)} (peft_model.py, {@code get_prompt}), so layer l takes its keys from slot 2l and its values from slot
 * 2l + 1 of the second axis; transformers' BERT self-attention then concatenates them before its own along the
 * position axis ({@code torch.cat([past_key_value[0], key_layer], dim=2)} in modeling_bert.py). The slots are cut
 * once here, on the model's device and in its manager, which frees them with the weights, and broadcast over each
 * batch's rows.
 */
public final class AttentionPrefix {
  private final NDArray[] keys;
  private final NDArray[] values;
  private final int length;

  private AttentionPrefix(NDArray[] keys, NDArray[] values, int length) {
    this.keys = keys;
    this.values = values;
    this.length = length;
  }

  /**
   * @param manager the model's manager, where the slots live
   * @param dtype the model's compute dtype
   * @param table the adapter's [P, layers·2·H] {@code prompt_embeddings}
   * @param config the base model, whose layers and heads the table is cut into
   */
  public static AttentionPrefix fromTable(NDManager manager, DataType dtype, Tensor table, BertConfig config) {
    int layers = config.numLayers();
    long p = table.shape()[0];
    long expectedWidth = 2L * layers * config.hiddenSize();
    if (table.shape().length != 2 || table.shape()[1] != expectedWidth) {
      throw new IllegalArgumentException("prefix table of shape " + Arrays.toString(table.shape())
          + " does not cut into " + layers + " layers of keys and values of width " + config.hiddenSize());
    }
    NDArray[] keys = new NDArray[layers];
    NDArray[] values = new NDArray[layers];
    try (NDArray flat = WeightLoader.toDevice(manager, dtype, table.data(), table.shape());
        NDArray split = flat.reshape(p, 2L * layers, config.numHeads(), config.headSize());
        NDArray slots = split.transpose(1, 2, 0, 3)) {
      for (int l = 0; l < layers; l++) {
        keys[l] = slot(slots, 2 * l);
        values[l] = slot(slots, 2 * l + 1);
      }
    }
    return new AttentionPrefix(keys, values, (int) p);
  }

  /** @return slot {@code i} of [2·layers, heads, P, d] as a contiguous [1, heads, P, d] array */
  private static NDArray slot(NDArray slots, int i) {
    try (NDArray view = slots.get(i); NDArray row = view.expandDims(0)) {
      return row.duplicate();
    }
  }

  /** @return P, the prefix length */
  public int length() {
    return length;
  }

  NDArray key(int layer) {
    return keys[layer];
  }

  NDArray value(int layer) {
    return values[layer];
  }
}

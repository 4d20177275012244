package dev.peftembed.encoder;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.jni.IValue;
import dev.peftembed.model.ModelFormatException;
import dev.peftembed.model.TorchScriptConfig;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeSet;

/**
 * Picks the token embeddings out of whatever a TorchScript {@code forward} returns: a tensor as it is; from a tuple
 * or list the entry at the configured index (default 0, where Hugging Face's {@code torchscript=True} exports put
 * {@code last_hidden_state}); from a dict the entry of the configured key (default {@code last_hidden_state}).
 */
final class GraphOutput {
  private static final String DEFAULT_KEY = "last_hidden_state";

  private final String selector;
  private final Path modelFile;

  /**
   * @param selector the serving.properties {@code peftembed.output} value, or {@code null} for the default
   * @param modelFile the graph, for messages
   */
  GraphOutput(String selector, Path modelFile) {
    this.selector = selector;
    this.modelFile = modelFile;
  }

  /**
   * @param out what forward returned; its entries are closed here, the caller closes {@code out}
   * @param manager where the selected tensor is attached
   * @param batch rows of the input, which the output must have
   * @return [batch, L, H] token embeddings
   * @throws ModelFormatException if the output has no such entry, or it is not a [batch, L, H] tensor
   */
  NDArray select(IValue out, PtNDManager manager, long batch) {
    NDArray picked;
    if (out.isTensor()) {
      if (selector != null && !selector.equals("0")) {
        throw mismatch("the graph returns a single tensor, so " + TorchScriptConfig.OUTPUT_KEY + " \""
            + selector + "\" names nothing");
      }
      picked = out.toTensor(manager);
    } else if (out.isTuple() || out.isList()) {
      picked = fromSequence(out.isTuple() ? out.toIValueTuple() : out.toIValueArray(), manager);
    } else if (out.isMap()) {
      picked = fromMap(out.toIValueMap(), manager);
    } else {
      throw mismatch("the graph returns " + out.getType() + ", not token embeddings (expected a tensor, a tuple, a "
          + "list or a dict of tensors)");
    }
    Shape shape = picked.getShape();
    if (shape.dimension() != 3 || shape.get(0) != batch) {
      picked.close();
      String which = selector == null ? "default output" : "output \"" + selector + "\"";
      throw mismatch("the graph's " + which + " has shape " + shape + " for a batch of " + batch + " rows; expected "
          + "token embeddings [" + batch + ", positions, hidden] (name another output with "
          + TorchScriptConfig.OUTPUT_KEY + " in serving.properties)");
    }
    return picked;
  }

  private NDArray fromSequence(IValue[] items, PtNDManager manager) {
    try {
      int index;
      try {
        index = selector == null ? 0 : Integer.parseInt(selector);
      } catch (NumberFormatException e) {
        throw mismatch("the graph returns a tuple or list of " + items.length + ", so "
            + TorchScriptConfig.OUTPUT_KEY + " must be an index, not \"" + selector + "\"");
      }
      if (index >= items.length) {
        throw mismatch("the graph returns a tuple or list of " + items.length + " entries; "
            + TorchScriptConfig.OUTPUT_KEY + " " + index + " is out of range");
      }
      return tensor(items[index], "entry " + index, manager);
    } finally {
      for (IValue item : items) {
        item.close();
      }
    }
  }

  private NDArray fromMap(Map<String, IValue> entries, PtNDManager manager) {
    try {
      String key = selector == null ? DEFAULT_KEY : selector;
      IValue value = entries.get(key);
      if (value == null) {
        throw mismatch("the graph returns a dict without \"" + key + "\" (keys: " + new TreeSet<>(entries.keySet())
            + "); name the token embeddings with " + TorchScriptConfig.OUTPUT_KEY + " in serving.properties");
      }
      return tensor(value, "entry \"" + key + "\"", manager);
    } finally {
      for (IValue value : entries.values()) {
        value.close();
      }
    }
  }

  private NDArray tensor(IValue value, String what, PtNDManager manager) {
    if (!value.isTensor()) {
      throw mismatch("the graph returns " + value.getType() + " as its " + what + ", not a tensor");
    }
    return value.toTensor(manager);
  }

  private ModelFormatException mismatch(String message) {
    return new ModelFormatException(modelFile, message);
  }
}

package dev.peftembed.model;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The weights of one model, from {@code model.safetensors} or from the shards listed in
 * {@code model.safetensors.index.json}. Keys are looked up by their Hugging Face names; a {@code bert.},
 * {@code roberta.} or {@code distilbert.} prefix (as in checkpoints saved from a task head) is accepted too.
 */
public final class Checkpoint {
  private static final String SINGLE = "model.safetensors";
  private static final String INDEX = "model.safetensors.index.json";
  private static final String[] PREFIXES = {"", "bert.", "roberta.", "distilbert.", "model."};

  private final Path directory;
  private final Map<String, SafetensorsFile> fileByName;

  private Checkpoint(Path directory, Map<String, SafetensorsFile> fileByName) {
    this.directory = directory;
    this.fileByName = fileByName;
  }

  /**
   * Indexes the weights in {@code directory}; reads headers only.
   *
   * @throws ModelFormatException if no safetensors weights are there (pickled weights are refused)
   */
  public static Checkpoint open(Path directory) {
    Path single = directory.resolve(SINGLE);
    Path index = directory.resolve(INDEX);
    Map<String, SafetensorsFile> byName = new HashMap<>();
    if (Files.isRegularFile(single)) {
      SafetensorsFile file = SafetensorsFile.open(single);
      file.names().forEach(n -> byName.put(n, file));
    } else if (Files.isRegularFile(index)) {
      JsonNode weightMap = JsonFiles.read(index).get("weight_map");
      if (weightMap == null || !weightMap.isObject()) {
        throw new ModelFormatException(index, "expected an object \"weight_map\" from tensor name to shard file");
      }
      Map<String, SafetensorsFile> shards = new LinkedHashMap<>();
      for (Iterator<Map.Entry<String, JsonNode>> it = weightMap.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        if (!e.getValue().isTextual() || e.getValue().asText().isEmpty()) {
          throw new ModelFormatException(index, "tensor \"" + e.getKey() + "\" maps to " + e.getValue()
              + "; expected the name of a shard file");
        }
        String shardName = e.getValue().asText();
        Path shardPath = JsonFiles.inside(directory, shardName, index, "shard");
        SafetensorsFile shard = shards.computeIfAbsent(shardName, s -> SafetensorsFile.open(shardPath));
        if (shard.entry(e.getKey()) == null) {
          throw new ModelFormatException(shardPath, "missing tensor \"" + e.getKey() + "\" listed in " + INDEX);
        }
        byName.put(e.getKey(), shard);
      }
    } else {
      throw new ModelFormatException(directory, noSafetensorsMessage(directory, "model"));
    }
    return new Checkpoint(directory, byName);
  }

  /** The message for a directory that holds pickled weights (or none): we never unpickle. */
  public static String noSafetensorsMessage(Path directory, String what) {
    for (String pickled : new String[] {"pytorch_model.bin", "adapter_model.bin", "model.bin"}) {
      if (Files.exists(directory.resolve(pickled))) {
        return "only " + pickled + " found; pickled weights are never loaded (they can run code). Convert the "
            + what + " to safetensors in Python: `model.save_pretrained(dir, safe_serialization=True)`";
      }
    }
    return "no " + SINGLE + " or " + INDEX + " found (expected the " + what + "'s weights in safetensors format)";
  }

  /** @return the directory the weights were read from */
  public Path directory() {
    return directory;
  }

  /** @return whether a tensor of that Hugging Face name exists */
  public boolean contains(String name) {
    return resolve(name) != null;
  }

  /**
   * Reads a tensor and checks its shape.
   *
   * @param name the Hugging Face parameter name, without any task-head prefix
   * @param expectedShape the shape config.json implies
   * @throws ModelFormatException naming the file, the tensor and both shapes, on any disagreement
   */
  public Tensor read(String name, long... expectedShape) {
    String key = check(name, expectedShape);
    return fileByName.get(key).read(key);
  }

  /**
   * Checks from the header alone that a tensor exists with that shape and a float dtype, so that a Spark driver can
   * reject the weights before any executor reads them.
   *
   * @return the key the tensor is stored under
   * @throws ModelFormatException naming the file, the tensor and what was expected
   */
  public String check(String name, long... expectedShape) {
    String key = resolve(name);
    if (key == null) {
      throw new ModelFormatException(directory, "missing tensor \"" + name + "\" in the model weights");
    }
    SafetensorsFile file = fileByName.get(key);
    SafetensorsFile.Entry entry = file.entry(key);
    if (!Arrays.equals(entry.shape(), expectedShape)) {
      throw new ModelFormatException(file.path(), "tensor \"" + key + "\" has shape "
          + Arrays.toString(entry.shape()) + " but config.json implies " + Arrays.toString(expectedShape));
    }
    if (DType.fromHeader(entry.dtype()).isEmpty()) {
      throw new ModelFormatException(file.path(), "tensor \"" + key + "\" has dtype " + entry.dtype()
          + "; expected F32, F16, BF16 or F64");
    }
    return key;
  }

  private String resolve(String name) {
    for (String prefix : PREFIXES) {
      if (fileByName.containsKey(prefix + name)) {
        return prefix + name;
      }
    }
    return null;
  }
}

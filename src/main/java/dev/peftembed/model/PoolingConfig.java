package dev.peftembed.model;

import com.fasterxml.jackson.databind.JsonNode;
import dev.peftembed.pooling.PoolingMode;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;

/**
 * The {@code Pooling} module of a sentence-transformers model.
 *
 * @param dimension {@code word_embedding_dimension}: the token vector width pooling expects, or {@code null} when
 *     only running the graph tells (a TorchScript directory with neither modules.json nor config.json)
 * @param modes the enabled modes, in concatenation order
 * @param includePrompt whether the tokens of a text prompt take part in pooling
 */
public record PoolingConfig(Integer dimension, List<PoolingMode> modes, boolean includePrompt) {

  /** Mean pooling over everything: the fallback for a plain Hugging Face directory. */
  public static PoolingConfig meanOf(Integer dimension) {
    return new PoolingConfig(dimension, List.of(PoolingMode.MEAN), true);
  }

  /**
   * Reads {@code 1_Pooling/config.json} (or wherever modules.json points).
   *
   * @throws ModelFormatException if no mode is enabled or a field has the wrong type
   */
  public static PoolingConfig read(Path file) {
    JsonNode n = JsonFiles.read(file);
    int dim = JsonFiles.requireInt(n, "word_embedding_dimension", file);
    EnumSet<PoolingMode> modes = EnumSet.noneOf(PoolingMode.class);
    for (PoolingMode m : PoolingMode.values()) {
      if (JsonFiles.optBoolean(n, m.configKey(), false, file)) {
        modes.add(m);
      }
    }
    // sentence-transformers also accepts a single "pooling_mode" string in newer configs.
    String single = JsonFiles.optText(n, "pooling_mode", null, file);
    if (single != null) {
      modes.add(parseModeName(single, file));
    }
    if (modes.isEmpty()) {
      throw new ModelFormatException(file, "no pooling mode is enabled (expected one of the pooling_mode_* keys "
          + "set to true)");
    }
    return new PoolingConfig(dim, List.copyOf(modes), JsonFiles.optBoolean(n, "include_prompt", true, file));
  }

  private static PoolingMode parseModeName(String name, Path file) {
    return switch (name) {
      case "cls" -> PoolingMode.CLS;
      case "max" -> PoolingMode.MAX;
      case "mean" -> PoolingMode.MEAN;
      case "mean_sqrt_len_tokens" -> PoolingMode.MEAN_SQRT_LEN;
      case "weightedmean" -> PoolingMode.WEIGHTED_MEAN;
      case "lasttoken" -> PoolingMode.LAST_TOKEN;
      default -> throw new ModelFormatException(file, "pooling_mode \"" + name
          + "\" is unknown (expected cls, max, mean, mean_sqrt_len_tokens, weightedmean or lasttoken)");
    };
  }

  /** @return the width of the pooled vector: one block of {@code dimension} per mode; {@code null} as dimension */
  public Integer outputDimension() {
    return dimension == null ? null : dimension * modes.size();
  }
}

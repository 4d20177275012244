package dev.peftembed.model;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.Locale;

/**
 * A {@code Dense} module of a sentence-transformers model: a linear projection plus an activation.
 *
 * @param directory where the module lives (its weights are {@code model.safetensors} there)
 * @param inFeatures input width
 * @param outFeatures output width
 * @param bias whether {@code linear.bias} exists
 * @param activation the activation applied after the projection
 */
public record DenseConfig(Path directory, int inFeatures, int outFeatures, boolean bias, DenseActivation activation)
    implements OutputModule {

  /** The activations a Dense module may name, by their fully qualified torch class names. */
  public enum DenseActivation {
    /** {@code torch.nn.modules.activation.Tanh}, sentence-transformers' default. */
    TANH,
    /** {@code torch.nn.modules.linear.Identity}. */
    IDENTITY,
    /** {@code torch.nn.modules.activation.ReLU}. */
    RELU,
    /** {@code torch.nn.modules.activation.GELU}. */
    GELU,
    /** {@code torch.nn.modules.activation.Sigmoid}. */
    SIGMOID;

    static DenseActivation fromConfig(String qualified, Path file) {
      String simple = qualified.substring(qualified.lastIndexOf('.') + 1).toLowerCase(Locale.ROOT);
      return switch (simple) {
        case "tanh" -> TANH;
        case "identity" -> IDENTITY;
        case "relu" -> RELU;
        case "gelu" -> GELU;
        case "sigmoid" -> SIGMOID;
        default -> throw new ModelFormatException(file, "activation_function \"" + qualified
            + "\" is not supported (expected Tanh, Identity, ReLU, GELU or Sigmoid from torch.nn)");
      };
    }
  }

  /**
   * Reads {@code config.json} of a Dense module directory.
   *
   * @throws ModelFormatException naming the file and field at fault
   */
  public static DenseConfig read(Path directory) {
    Path file = directory.resolve("config.json");
    JsonNode n = JsonFiles.read(file);
    return new DenseConfig(directory,
        JsonFiles.requireInt(n, "in_features", file),
        JsonFiles.requireInt(n, "out_features", file),
        JsonFiles.optBoolean(n, "bias", true, file),
        DenseActivation.fromConfig(JsonFiles.optText(n, "activation_function",
            "torch.nn.modules.activation.Tanh", file), file));
  }

  /**
   * Checks from the header of the module's {@code model.safetensors} alone that {@code linear.weight} [out, in] (and
   * {@code linear.bias} [out]) are there; reads no weights.
   *
   * @throws ModelFormatException naming the file and the tensor
   */
  public void checkWeights() {
    Checkpoint weights = Checkpoint.open(directory);
    weights.check("linear.weight", outFeatures, inFeatures);
    if (bias) {
      weights.check("linear.bias", outFeatures);
    }
  }
}

package dev.peftembed.model;

import java.nio.file.Path;
import java.util.Locale;

/** The feed-forward activations of BERT-family checkpoints, by their {@code hidden_act} names. */
public enum HiddenActivation {
  /** Exact GELU, x·Φ(x) ({@code gelu}). */
  GELU,
  /** The tanh approximation of GELU ({@code gelu_new}, {@code gelu_pytorch_tanh}, {@code gelu_fast}). */
  GELU_TANH,
  /** {@code relu}. */
  RELU;

  /** @return the {@code hidden_act} name that config.json writes for it, as Hugging Face's exporters do */
  public String configName() {
    return switch (this) {
      case GELU -> "gelu";
      case GELU_TANH -> "gelu_new";
      case RELU -> "relu";
    };
  }

  /** @throws ModelFormatException for an activation we do not implement */
  public static HiddenActivation fromConfig(String name, Path file) {
    return switch (name.toLowerCase(Locale.ROOT)) {
      case "gelu" -> GELU;
      case "gelu_new", "gelu_pytorch_tanh", "gelu_fast" -> GELU_TANH;
      case "relu" -> RELU;
      default -> throw new ModelFormatException(file, "hidden_act \"" + name
          + "\" is not supported (expected gelu, gelu_new, gelu_pytorch_tanh, gelu_fast or relu)");
    };
  }
}

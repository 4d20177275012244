package dev.peftembed.embed;

import com.fasterxml.jackson.databind.JsonNode;
import dev.peftembed.model.JsonFiles;
import dev.peftembed.model.ModelFormatException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A model directory that sentence-transformers (≥ 3.3) saved with an adapter: {@code adapter_config.json} and
 * {@code adapter_model.safetensors} in place of the model's weights. Such a directory is read as the base model it
 * names plus itself as the adapter, as transformers' adapter integration loads it: the base from
 * {@code base_model_name_or_path} when that is a local directory, or from the base model the user gives.
 *
 * @param model the base model directory
 * @param adapter the directory as an adapter, or {@code null} when the directory is a model of its own
 */
public record AdapterModelDirectory(Path model, Path adapter) {

  /** @return whether {@code dir} holds an adapter where a model's weights would be */
  public static boolean holdsAdapter(Path dir) {
    return Files.isRegularFile(dir.resolve("adapter_config.json"))
        && Files.isRegularFile(dir.resolve("adapter_model.safetensors"))
        && !Files.isRegularFile(dir.resolve("model.safetensors"))
        && !Files.isRegularFile(dir.resolve("model.safetensors.index.json"))
        && !Files.isRegularFile(dir.resolve("model.pt"));
  }

  /**
   * @param modelDir the directory given as the model
   * @param baseModel the base model given by the user, or {@code null}; it wins over the one the adapter names
   * @return {@code modelDir} alone when it holds a model; otherwise its base model and itself as the adapter
   * @throws ModelFormatException in one line when the directory holds an adapter and no base model can be found
   */
  public static AdapterModelDirectory resolve(Path modelDir, Path baseModel) {
    if (!holdsAdapter(modelDir)) {
      return new AdapterModelDirectory(modelDir, null);
    }
    if (baseModel != null) {
      return new AdapterModelDirectory(baseModel, modelDir);
    }
    Path config = modelDir.resolve("adapter_config.json");
    JsonNode named = JsonFiles.read(config).get("base_model_name_or_path");
    String recorded = named == null || !named.isTextual() ? null : named.asText();
    if (recorded != null && !recorded.isBlank() && Files.isDirectory(Path.of(recorded))) {
      return new AdapterModelDirectory(Path.of(recorded), modelDir);
    }
    throw new ModelFormatException(config, "this model directory holds an adapter, not model weights, and its "
        + "base_model_name_or_path " + (recorded == null ? "is not set" : "\"" + recorded + "\" is not a local "
        + "directory") + ": give the base model's directory with --base-model DIR (the stage's baseModelPath)");
  }
}

package dev.peftembed.peft;

import com.fasterxml.jackson.databind.JsonNode;
import dev.peftembed.model.BertConfig;
import dev.peftembed.model.JsonFiles;
import java.nio.file.Files;
import java.nio.file.Path;

/** Which kind of PEFT adapter a directory holds, and the checks of that kind. */
public final class Adapters {
  private Adapters() {}

  /**
   * Checks an adapter directory against the base model from configs and weight headers (never the weights), by the
   * rules of the adapter's own kind: LoRA, or prompt learning.
   *
   * @param baseModelDir the base model directory, to warn when the adapter names another model
   * @return the adapter's config; M = 0 for LoRA
   * @throws dev.peftembed.model.ModelFormatException one line naming the file and what was expected
   */
  public static AdapterConfig validate(Path adapterDir, BertConfig base, Path baseModelDir) {
    return isLora(adapterDir) ? LoraAdapter.validate(adapterDir, base, baseModelDir)
        : PromptAdapter.validate(adapterDir, base, baseModelDir);
  }

  /** @return whether adapter_config.json says LORA; a missing or broken one is left to the other path to report */
  private static boolean isLora(Path adapterDir) {
    Path file = adapterDir.resolve("adapter_config.json");
    if (!Files.isRegularFile(file)) {
      return false;
    }
    JsonNode type = JsonFiles.read(file).get("peft_type");
    return type != null && type.isTextual() && type.asText().equalsIgnoreCase(LoraConfig.PEFT_TYPE);
  }
}

package dev.peftembed.peft;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.peftembed.model.BertConfig;
import dev.peftembed.model.SafetensorsWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.TreeMap;

/**
 * Writes a prompt-tuning adapter directory exactly as PEFT's {@code save_pretrained} lays it out:
 * {@code adapter_config.json} and {@code adapter_model.safetensors} holding {@code prompt_embeddings}. Used to build
 * demo and test adapters from a model, and to export tables trained elsewhere.
 */
public final class PromptAdapterWriter {
  private static final ObjectMapper JSON = new ObjectMapper();

  private PromptAdapterWriter() {}

  /**
   * @param dir the adapter directory to create (or fill)
   * @param promptEmbeddings row-major [M, H] virtual-token embeddings
   * @param numVirtualTokens M
   * @param baseModel recorded as {@code base_model_name_or_path}
   * @param config architecture facts recorded as PEFT records them: hidden size, heads and layers
   */
  public static void write(Path dir, float[] promptEmbeddings, int numVirtualTokens, String baseModel,
      BertConfig config) throws IOException {
    write(dir, promptEmbeddings, numVirtualTokens, baseModel, config, null);
  }

  /**
   * As {@link #write(Path, float[], int, String, BertConfig)}, recording how the table was initialised: PEFT's
   * {@code prompt_tuning_init} {@code TEXT} with its {@code prompt_tuning_init_text}, or {@code RANDOM}.
   *
   * @param initText the text the rows were taken from ({@link TextPromptInit}), or {@code null} for RANDOM
   */
  public static void write(Path dir, float[] promptEmbeddings, int numVirtualTokens, String baseModel,
      BertConfig config, String initText) throws IOException {
    int h = config.hiddenSize();
    if (promptEmbeddings.length != (long) numVirtualTokens * h) {
      throw new IllegalArgumentException("expected " + numVirtualTokens + " × " + h + " values, got "
          + promptEmbeddings.length);
    }
    Files.createDirectories(dir);
    ObjectNode c = JSON.createObjectNode();
    c.put("peft_type", "PROMPT_TUNING");
    c.put("task_type", "FEATURE_EXTRACTION");
    c.put("num_virtual_tokens", numVirtualTokens);
    c.put("token_dim", h);
    c.put("num_transformer_submodules", 1);
    c.put("num_attention_heads", config.numHeads());
    c.put("num_layers", config.numLayers());
    c.put("base_model_name_or_path", baseModel);
    c.put("inference_mode", true);
    if (initText == null) {
      c.put("prompt_tuning_init", "RANDOM");
    } else {
      c.put("prompt_tuning_init", "TEXT");
      c.put("prompt_tuning_init_text", initText);
      c.put("tokenizer_name_or_path", baseModel);
    }
    JSON.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("adapter_config.json").toFile(), c);
    TreeMap<String, SafetensorsWriter.Entry> tensors = new TreeMap<>();
    tensors.put(PromptAdapter.KEY, new SafetensorsWriter.Entry(new long[] {numVirtualTokens, h}, promptEmbeddings));
    SafetensorsWriter.write(dir.resolve(PromptAdapter.WEIGHTS), tensors);
  }
}

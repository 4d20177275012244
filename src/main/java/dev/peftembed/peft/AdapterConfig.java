package dev.peftembed.peft;

import com.fasterxml.jackson.databind.JsonNode;
import dev.peftembed.model.Architecture;
import dev.peftembed.model.BertConfig;
import dev.peftembed.model.JsonFiles;
import dev.peftembed.model.ModelFormatException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Set;

/**
 * The fields of a PEFT {@code adapter_config.json} that inference needs, for the prompt-learning adapters: prompt
 * tuning and P-tuning, whose M virtual tokens are input embeddings placed before the real tokens, and prefix tuning,
 * whose M virtual tokens are keys and values placed before the real ones in every layer's attention.
 *
 * @param file the config file, for messages
 * @param peftType {@code peft_type}, upper case
 * @param numVirtualTokens M: virtual tokens per transformer submodule
 * @param tokenDim width of each virtual token; must equal the model's hidden size
 * @param numTransformerSubmodules 1 for encoders
 * @param baseModelNameOrPath the model the adapter was trained on, as recorded
 */
public record AdapterConfig(
    Path file,
    String peftType,
    int numVirtualTokens,
    int tokenDim,
    int numTransformerSubmodules,
    String baseModelNameOrPath) {

  /** The adapters whose trained state is a [M, H] table of input embeddings. */
  static final Set<String> PROMPT_LEARNING = Set.of("PROMPT_TUNING", "P_TUNING");

  /** The adapter whose trained state is a [M, layers·2·H] table of per-layer attention keys and values. */
  static final String PREFIX_TUNING = "PREFIX_TUNING";

  private static final String SUPPORTED = "PROMPT_TUNING, P_TUNING, PREFIX_TUNING, LORA";

  private static final Set<String> KNOWN_LATER = Set.of("ADALORA", "IA3", "LOHA", "LOKR",
      "MULTITASK_PROMPT_TUNING", "ADAPTION_PROMPT", "BOFT", "OFT", "VERA", "FOURIERFT", "LN_TUNING", "POLY", "XLORA");

  /**
   * Reads {@code adapter_config.json} in {@code adapterDir} and checks it against the base model.
   *
   * @throws ModelFormatException one line naming the file and what was expected
   */
  public static AdapterConfig read(Path adapterDir, BertConfig base) {
    if (!Files.isDirectory(adapterDir)) {
      throw new ModelFormatException(adapterDir, "adapter directory not found (expected a PEFT adapter saved with "
          + "save_pretrained: adapter_config.json and adapter_model.safetensors)");
    }
    Path file = adapterDir.resolve("adapter_config.json");
    JsonNode n = JsonFiles.read(file);
    String type = JsonFiles.optText(n, "peft_type", null, file);
    if (type == null) {
      throw new ModelFormatException(file, "missing field \"peft_type\" (expected one of " + SUPPORTED + ")");
    }
    type = type.toUpperCase(Locale.ROOT);
    if (!PROMPT_LEARNING.contains(type) && !PREFIX_TUNING.equals(type)) {
      String why = KNOWN_LATER.contains(type) ? "is not supported yet" : "is unknown";
      throw new ModelFormatException(file, "peft_type " + type + " " + why + " (supported: " + SUPPORTED + ")");
    }
    int m = JsonFiles.requireInt(n, "num_virtual_tokens", file);
    if (m <= 0) {
      throw new ModelFormatException(file, "num_virtual_tokens must be positive, found " + m);
    }
    int tokenDim = JsonFiles.optInt(n, "token_dim", base.hiddenSize(), file);
    if (tokenDim != base.hiddenSize()) {
      throw new ModelFormatException(file, "token_dim " + tokenDim + " disagrees with the model's hidden_size "
          + base.hiddenSize() + ": this adapter was trained for another base model");
    }
    int submodules = JsonFiles.optInt(n, "num_transformer_submodules", 1, file);
    if (submodules != 1) {
      throw new ModelFormatException(file, "num_transformer_submodules " + submodules
          + " is not supported (expected 1: an encoder-only model)");
    }
    if (m >= base.positionLimit()) {
      throw new ModelFormatException(file, "num_virtual_tokens " + m + " leaves no room for real tokens in the "
          + "model's " + base.positionLimit() + " positions");
    }
    if (PREFIX_TUNING.equals(type)) {
      checkPrefixGeometry(n, file, base);
    }
    return new AdapterConfig(file, type, m, tokenDim, submodules,
        JsonFiles.optText(n, "base_model_name_or_path", null, file));
  }

  /**
   * PEFT cuts the prefix table into layers and heads with the counts recorded here (peft_model.py, get_prompt:
   * {@code view(B, M, num_layers * 2, num_attention_heads, token_dim // num_attention_heads)}), so they must be the
   * base model's, or the keys would land in the wrong layers and heads.
   */
  private static void checkPrefixGeometry(JsonNode n, Path file, BertConfig base) {
    if (base.architecture() == Architecture.DISTILBERT || base.architecture() == Architecture.MPNET) {
      // transformers' DistilBertModel.forward and MPNetModel.forward take no past_key_values, so PEFT cannot run a
      // prefix on them either
      throw new ModelFormatException(file, "peft_type PREFIX_TUNING needs a model whose attention takes past keys "
          + "and values; model_type " + base.architecture().modelType() + " has none (use PROMPT_TUNING, P_TUNING"
          + (base.architecture() == Architecture.MPNET ? ")" : " or LORA)"));
    }
    int layers = JsonFiles.optInt(n, "num_layers", base.numLayers(), file);
    if (layers != base.numLayers()) {
      throw new ModelFormatException(file, "num_layers " + layers + " disagrees with the model's "
          + "num_hidden_layers " + base.numLayers() + ": this prefix was trained for another base model");
    }
    int heads = JsonFiles.optInt(n, "num_attention_heads", base.numHeads(), file);
    if (heads != base.numHeads()) {
      throw new ModelFormatException(file, "num_attention_heads " + heads + " disagrees with the model's "
          + base.numHeads() + ": this prefix was trained for another base model");
    }
  }

  /** @return whether the virtual tokens are attention keys and values (prefix tuning), not input embeddings */
  public boolean isPrefix() {
    return PREFIX_TUNING.equals(peftType);
  }

  /**
   * @return the virtual tokens in the model's output: M for prompt tuning and P-tuning, whose output is M + N long;
   *     0 for prefix tuning, whose output stays N long
   */
  public int outputVirtualTokens() {
    return isPrefix() ? 0 : numVirtualTokens;
  }

  /**
   * @param base the base model
   * @return the shape of the saved {@code prompt_embeddings}: [M, H] for input embeddings, [M, layers·2·H] for a
   *     prefix (PEFT saves the projected table when {@code prefix_projection} is set, so the shape is the same)
   */
  public long[] tableShape(BertConfig base) {
    long width = isPrefix() ? 2L * base.numLayers() * tokenDim : tokenDim;
    return new long[] {numVirtualTokens, width};
  }
}

package dev.peftembed.model;

import com.fasterxml.jackson.databind.JsonNode;
import dev.peftembed.pooling.MaskAligner;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.stream.Collectors;

/**
 * What a TorchScript model directory says about its graph, beyond the sentence-transformers configs it shares with
 * safetensors directories. DJL exposes no input schema for a TorchScript module, so its interface is read from the
 * archive's code and from files that describe it, without loading it:
 *
 * <ul>
 *   <li>{@code model.pt} itself: the names and order of {@code forward}'s inputs, from the module's code in the
 *       archive ({@link TorchScriptSignature}).
 *   <li>{@code serving.properties}, DJL's model-zoo file, optional: {@code includeTokenTypes} (DJL's own key), when
 *       present, overrides the signature and passes {@code (input_ids, attention_mask[, token_type_ids])} by
 *       position; {@code peftembed.output} names the output holding the token embeddings. Every other key is
 *       DJL's business and ignored.
 *   <li>{@code adapter_config.json}, optional: the PEFT adapter baked into the graph, which declares how many
 *       virtual tokens the output carries in front of the real ones.
 *   <li>{@code config.json}, optional: {@code hidden_size} and {@code max_position_embeddings}, when present.
 * </ul>
 *
 * @param modelFile {@code model.pt}
 * @param inputs what {@code forward} takes, in its order
 * @param inputsDeclaredBy the file that says so: {@code serving.properties}, or {@code model.pt} for its code
 * @param output the output holding the token embeddings: {@code null} for the default (a tensor as it is, entry 0
 *     of a tuple or list, the {@code last_hidden_state} entry of a dict), else a tuple index or a dict key
 * @param declaredVirtualTokens the extra leading positions {@code adapter_config.json} declares, or {@code null}
 *     when there is none and they are detected from the first batch
 * @param declarationFile the {@code adapter_config.json} that declares them, or {@code null}
 * @param hiddenSize {@code hidden_size} from {@code config.json}, or {@code null} when unknown
 * @param maxPositions {@code max_position_embeddings} from {@code config.json}, or {@code null} when unknown
 */
public record TorchScriptConfig(
    Path modelFile,
    List<TorchScriptInput> inputs,
    Path inputsDeclaredBy,
    String output,
    Integer declaredVirtualTokens,
    Path declarationFile,
    Integer hiddenSize,
    Integer maxPositions) {

  /** The graph's file name, as DJL's model zoo names it. */
  public static final String MODEL_FILE = "model.pt";

  /** The serving.properties key naming the output that holds the token embeddings. */
  public static final String OUTPUT_KEY = "peftembed.output";

  /** DJL's serving.properties key: whether the graph takes token type ids as a third input, overriding the code. */
  public static final String TOKEN_TYPES_KEY = "includeTokenTypes";

  /** @return whether {@code dir} holds a TorchScript model: {@code model.pt} and no safetensors weights */
  public static boolean isTorchScriptDirectory(Path dir) {
    return Files.isRegularFile(dir.resolve(MODEL_FILE)) && !Files.exists(dir.resolve("model.safetensors"))
        && !Files.exists(dir.resolve("model.safetensors.index.json"));
  }

  /**
   * Reads what the directory's files say about the graph and checks that its file is a TorchScript archive; does
   * not load it.
   *
   * @throws ModelFormatException one line naming the file and what was expected
   */
  public static TorchScriptConfig read(Path dir) {
    Path modelFile = dir.resolve(MODEL_FILE);
    TorchScriptArchive.check(modelFile);
    Path servingFile = dir.resolve("serving.properties");
    Properties serving = servingProperties(servingFile);
    List<TorchScriptInput> inputs;
    Path inputsDeclaredBy;
    if (serving.getProperty(TOKEN_TYPES_KEY) != null) {
      inputs = booleanProperty(serving, TOKEN_TYPES_KEY, servingFile)
          ? List.of(TorchScriptInput.INPUT_IDS, TorchScriptInput.ATTENTION_MASK, TorchScriptInput.TOKEN_TYPE_IDS)
          : List.of(TorchScriptInput.INPUT_IDS, TorchScriptInput.ATTENTION_MASK);
      inputsDeclaredBy = servingFile;
    } else {
      inputs = TorchScriptSignature.read(modelFile);
      inputsDeclaredBy = modelFile;
    }
    String output = serving.getProperty(OUTPUT_KEY);
    if (output != null) {
      output = output.trim();
      if (output.isEmpty() || output.startsWith("-")) {
        throw new ModelFormatException(dir.resolve("serving.properties"), OUTPUT_KEY + " must be a tuple index "
            + "(0, 1, ...) or a dict key, found \"" + output + "\"");
      }
    }
    Integer hidden = null;
    Integer positions = null;
    Path config = dir.resolve("config.json");
    if (Files.isRegularFile(config)) {
      JsonNode n = JsonFiles.read(config);
      hidden = positiveIfPresent(n, "hidden_size", config);
      positions = positiveIfPresent(n, "max_position_embeddings", config);
    }
    Path adapterConfig = dir.resolve("adapter_config.json");
    Integer declared = Files.isRegularFile(adapterConfig)
        ? declaredVirtualTokens(adapterConfig, hidden, positions) : null;
    return new TorchScriptConfig(modelFile, inputs, inputsDeclaredBy, output, declared,
        declared == null ? null : adapterConfig, hidden, positions);
  }

  /**
   * The number of extra leading positions a baked-in adapter puts in the output: M for prompt tuning and P-tuning
   * (virtual tokens are inputs), none for prefix tuning (its virtual tokens are attention keys, and the output stays
   * as long as the mask).
   */
  private static int declaredVirtualTokens(Path file, Integer hiddenSize, Integer maxPositions) {
    JsonNode n = JsonFiles.read(file);
    String type = JsonFiles.optText(n, "peft_type", null, file);
    if (type == null) {
      throw new ModelFormatException(file, "missing field \"peft_type\" (expected PROMPT_TUNING, P_TUNING or "
          + "PREFIX_TUNING; remove the file to detect virtual tokens from the output instead)");
    }
    type = type.toUpperCase(Locale.ROOT);
    int submodules = JsonFiles.optInt(n, "num_transformer_submodules", 1, file);
    if (submodules != 1) {
      throw new ModelFormatException(file, "num_transformer_submodules " + submodules
          + " is not supported (expected 1: an encoder-only model)");
    }
    int m = JsonFiles.requireInt(n, "num_virtual_tokens", file);
    if (m <= 0 || m > MaskAligner.MAX_VIRTUAL_TOKENS) {
      throw new ModelFormatException(file, "num_virtual_tokens must be between 1 and "
          + MaskAligner.MAX_VIRTUAL_TOKENS + ", found " + m);
    }
    if (hiddenSize != null) {
      int tokenDim = JsonFiles.optInt(n, "token_dim", hiddenSize, file);
      if (tokenDim != hiddenSize) {
        throw new ModelFormatException(file, "token_dim " + tokenDim + " disagrees with hidden_size " + hiddenSize
            + " in config.json");
      }
    }
    return switch (type) {
      case "PROMPT_TUNING", "P_TUNING" -> {
        if (maxPositions != null && m >= maxPositions) {
          throw new ModelFormatException(file, "num_virtual_tokens " + m + " leaves no room for real tokens in the "
              + "model's " + maxPositions + " positions");
        }
        yield m;
      }
      case "PREFIX_TUNING" -> 0;
      default -> throw new ModelFormatException(file, "peft_type " + type + " does not say how long the graph's "
          + "output is (expected PROMPT_TUNING, P_TUNING or PREFIX_TUNING; remove the file to detect virtual "
          + "tokens from the output instead)");
    };
  }

  private static Properties servingProperties(Path file) {
    Properties p = new Properties();
    if (Files.isRegularFile(file)) {
      try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
        p.load(in);
      } catch (IOException | IllegalArgumentException e) {
        throw new ModelFormatException(file, "cannot read Java properties: " + e.getMessage(), e);
      }
    }
    return p;
  }

  private static boolean booleanProperty(Properties p, String key, Path file) {
    String v = p.getProperty(key);
    return switch (v.trim().toLowerCase(Locale.ROOT)) {
      case "true" -> true;
      case "false" -> false;
      default -> throw new ModelFormatException(file, key + " must be true or false, found \"" + v + "\"");
    };
  }

  /** @return the field's value, or {@code null} when config.json leaves it out */
  private static Integer positiveIfPresent(JsonNode n, String field, Path file) {
    int value = JsonFiles.optInt(n, field, 0, file);
    if (value < 0 || (value == 0 && n.hasNonNull(field))) {
      throw new ModelFormatException(file, "field \"" + field + "\" must be positive, found " + value);
    }
    return value == 0 ? null : value;
  }

  /** @return how many inputs {@code forward} takes: 2 (ids, mask) or 3 (with token types) */
  public int inputCount() {
    return inputs.size();
  }

  /** @return whether the inputs come from {@code serving.properties} rather than from the graph's code */
  public boolean inputsFromServingProperties() {
    return !inputsDeclaredBy.equals(modelFile);
  }

  /** @return the inputs as {@code forward} declares them, for messages: {@code (input_ids, attention_mask)} */
  public String inputNames() {
    return inputs.stream().map(TorchScriptInput::parameter).collect(Collectors.joining(", ", "(", ")"));
  }
}

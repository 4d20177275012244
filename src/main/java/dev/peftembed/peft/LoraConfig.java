package dev.peftembed.peft;

import com.fasterxml.jackson.databind.JsonNode;
import dev.peftembed.model.JsonFiles;
import dev.peftembed.model.ModelFormatException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * The fields of a LoRA {@code adapter_config.json} that decide the numbers at inference, as PEFT 0.20 reads them
 * ({@code peft/tuners/lora/config.py}, {@code LoraConfig}). Fields that only steer training (dropout, init) are not
 * read; fields that would change the forward pass in a way we do not compute (DoRA and the other LoRA variants,
 * modules_to_save, target_parameters, ...) are refused in one line.
 *
 * @param file the config file, for messages
 * @param r the default rank {@code r}
 * @param alpha the default {@code lora_alpha}
 * @param useRslora whether the scale is alpha/√r (rank-stabilized LoRA) rather than alpha/r
 * @param targets {@code target_modules}: suffixes, a full-match regex, or every linear module
 * @param excludeModules {@code exclude_modules}, or {@code null}
 * @param layersToTransform {@code layers_to_transform} as a list (PEFT's single int is a list of one), or
 *     {@code null}
 * @param layersPattern {@code layers_pattern} as a list, or {@code null}
 * @param rankPattern {@code rank_pattern} in file order: the first matching key wins
 * @param alphaPattern {@code alpha_pattern} in file order
 * @param bias {@code bias}: none, all or lora_only (which saved biases exist; any saved bias is applied)
 * @param loraBias {@code lora_bias}: whether lora_B carries a bias
 * @param baseModelNameOrPath the model the adapter was trained on, as recorded
 */
public record LoraConfig(
    Path file,
    int r,
    double alpha,
    boolean useRslora,
    Targets targets,
    Targets excludeModules,
    List<Integer> layersToTransform,
    List<String> layersPattern,
    Map<String, Integer> rankPattern,
    Map<String, Double> alphaPattern,
    String bias,
    boolean loraBias,
    String baseModelNameOrPath) {

  /** {@code peft_type} of a LoRA adapter. */
  public static final String PEFT_TYPE = "LORA";

  /**
   * Module names a config selects: a list of names matched exactly or as dot-separated suffixes, a regex matched
   * against the whole name, or PEFT's {@code all-linear} shorthand.
   *
   * @param names the list form, else {@code null}
   * @param regex the string form, else {@code null}
   * @param allLinear whether the config says {@code all-linear}
   */
  public record Targets(List<String> names, Pattern regex, boolean allLinear) {
    @Override
    public String toString() {
      return allLinear ? "all-linear" : regex != null ? "\"" + regex.pattern() + "\"" : names.toString();
    }
  }

  /** PEFT's target modules for model_type bert when the config names none (peft/utils/constants.py:76). */
  private static final List<String> BERT_DEFAULT_TARGETS = List.of("query", "value");

  /**
   * Config fields that select a LoRA variant whose forward differs from y = xWᵀ + b + s·(xAᵀ)Bᵀ
   * (peft/tuners/lora/layer.py:897-908, {@code Linear.lora_variants}), or that make PEFT save weights other than
   * LoRA's and the biases. Any of them set is refused.
   */
  private static final Map<String, String> REFUSED = refused();

  private static Map<String, String> refused() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("use_dora", "DoRA (use_dora) is not supported: merge the adapter in Python "
        + "(PeftModel.merge_and_unload()) and use the merged model, or train without DoRA");
    m.put("arrow_config", "the Arrow LoRA variant (arrow_config) is not supported");
    m.put("use_bdlora", "the block-diagonal LoRA variant (use_bdlora) is not supported");
    m.put("alora_invocation_tokens", "activated LoRA (alora_invocation_tokens) is not supported");
    m.put("velora_config", "the VeLoRA variant (velora_config) is not supported");
    m.put("monteclora_config", "the MonteCLoRA variant (monteclora_config) is not supported");
    m.put("mica", "the MiCA variant (mica) is not supported");
    m.put("use_qalora", "QA-LoRA (use_qalora) is not supported");
    m.put("modules_to_save", "modules_to_save is not supported: the adapter replaces whole modules");
    m.put("target_parameters", "target_parameters (LoRA on bare parameters) is not supported");
    m.put("trainable_token_indices", "trainable_token_indices (trained token embeddings) is not supported");
    m.put("layer_replication", "layer_replication is not supported");
    return Collections.unmodifiableMap(m);
  }

  /**
   * Reads a LoRA {@code adapter_config.json} and applies the checks of PEFT's {@code LoraConfig.__post_init__}.
   *
   * @throws ModelFormatException one line naming the file and the field at fault
   */
  public static LoraConfig read(Path file) {
    JsonNode n = JsonFiles.read(file);
    String type = JsonFiles.optText(n, "peft_type", "", file);
    if (!PEFT_TYPE.equals(type.toUpperCase(Locale.ROOT))) {
      throw new ModelFormatException(file, "peft_type " + type + " is not " + PEFT_TYPE);
    }
    for (Map.Entry<String, String> refusal : REFUSED.entrySet()) {
      if (isSet(n.get(refusal.getKey()))) {
        throw new ModelFormatException(file, refusal.getValue());
      }
    }
    int r = JsonFiles.optInt(n, "r", 8, file);
    // peft/tuners/lora/layer.py:236: "`r` should be a positive integer value"
    if (r <= 0) {
      throw new ModelFormatException(file, "r must be a positive integer, found " + r);
    }
    double alpha = JsonFiles.optDouble(n, "lora_alpha", 8, file);
    Targets targets = targets(n.get("target_modules"), "target_modules", file);
    if (targets == null) {
      targets = new Targets(BERT_DEFAULT_TARGETS, null, false);
    }
    List<Integer> layers = layers(n.get("layers_to_transform"), file);
    List<String> layersPattern = texts(n.get("layers_pattern"), "layers_pattern", file);
    // peft/tuners/lora/config.py:934-944: layer selection works with a list of targets only, and a pattern needs
    // the layer indexes it selects among
    if ((targets.regex() != null || targets.allLinear()) && (layers != null || layersPattern != null)) {
      throw new ModelFormatException(file, "layers_to_transform and layers_pattern cannot be used when "
          + "target_modules is a string (" + targets + ")");
    }
    if (layersPattern != null && !layersPattern.isEmpty() && (layers == null || layers.isEmpty())) {
      throw new ModelFormatException(file, "layers_pattern " + layersPattern + " needs layers_to_transform");
    }
    String bias = JsonFiles.optText(n, "bias", "none", file);
    if (!List.of("none", "all", "lora_only").contains(bias)) {
      throw new ModelFormatException(file, "bias must be \"none\", \"all\" or \"lora_only\", found \"" + bias + "\"");
    }
    return new LoraConfig(file, r, alpha, JsonFiles.optBoolean(n, "use_rslora", false, file), targets,
        targets(n.get("exclude_modules"), "exclude_modules", file), layers, layersPattern,
        pattern(n.get("rank_pattern"), "rank_pattern", LoraConfig::rank, "a positive integer rank", file),
        pattern(n.get("alpha_pattern"), "alpha_pattern", LoraConfig::number, "a number", file),
        bias, JsonFiles.optBoolean(n, "lora_bias", false, file),
        JsonFiles.optText(n, "base_model_name_or_path", null, file));
  }

  /**
   * The LoRA scale of one module: {@code lora_alpha / r}, or {@code lora_alpha / √r} with rsLoRA
   * (peft/tuners/lora/layer.py:274-277), with r and alpha as the patterns give them for that module
   * (peft/tuners/lora/model.py:217-220).
   */
  double scale(int rank, double moduleAlpha) {
    return useRslora ? moduleAlpha / Math.sqrt(rank) : moduleAlpha / rank;
  }

  /** PEFT keeps a false flag, an empty list, an empty dict and null as "unset"; anything else is set. */
  private static boolean isSet(JsonNode v) {
    if (v == null || v.isNull()) {
      return false;
    }
    if (v.isBoolean()) {
      return v.asBoolean();
    }
    return !(v.isContainerNode() && v.isEmpty());
  }

  private static Targets targets(JsonNode v, String field, Path file) {
    if (v == null || v.isNull()) {
      return null;
    }
    if (v.isTextual()) {
      if (v.asText().toLowerCase(Locale.ROOT).equals("all-linear")) {
        return new Targets(null, null, true);
      }
      return new Targets(null, regex(v.asText(), field, file), false);
    }
    return new Targets(texts(v, field, file), null, false);
  }

  static Pattern regex(String text, String field, Path file) {
    try {
      return Pattern.compile(text);
    } catch (PatternSyntaxException e) {
      throw new ModelFormatException(file, field + " \"" + text + "\" is not a regular expression: "
          + e.getDescription());
    }
  }

  private static List<String> texts(JsonNode v, String field, Path file) {
    if (v == null || v.isNull()) {
      return null;
    }
    if (v.isTextual()) {
      return List.of(v.asText());
    }
    if (!v.isArray()) {
      throw new ModelFormatException(file, "field \"" + field + "\" must be a string or a list of strings, found "
          + v);
    }
    List<String> out = new ArrayList<>();
    for (JsonNode e : v) {
      if (!e.isTextual()) {
        throw new ModelFormatException(file, "field \"" + field + "\" must list strings, found " + e);
      }
      out.add(e.asText());
    }
    return List.copyOf(out);
  }

  private static List<Integer> layers(JsonNode v, Path file) {
    if (v == null || v.isNull()) {
      return null;
    }
    if (v.canConvertToInt() && v.isIntegralNumber()) {
      return List.of(v.asInt());
    }
    if (!v.isArray()) {
      throw new ModelFormatException(file, "field \"layers_to_transform\" must be an integer or a list of "
          + "integers, found " + v);
    }
    List<Integer> out = new ArrayList<>();
    for (JsonNode e : v) {
      if (!e.isIntegralNumber() || !e.canConvertToInt()) {
        throw new ModelFormatException(file, "field \"layers_to_transform\" must list integers, found " + e);
      }
      out.add(e.asInt());
    }
    return List.copyOf(out);
  }

  /**
   * A pattern object in file order, each key a valid regex (PEFT matches keys as regexes).
   *
   * @param value the value of an entry, or {@code null} if it is not one this pattern allows
   * @param expected what a value must be, for messages
   */
  private static <T> Map<String, T> pattern(JsonNode v, String field, Function<JsonNode, T> value, String expected,
      Path file) {
    if (v == null || v.isNull()) {
      return Map.of();
    }
    if (!v.isObject()) {
      throw new ModelFormatException(file, "field \"" + field + "\" must be an object from module name to value");
    }
    Map<String, T> out = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      T converted = value.apply(e.getValue());
      if (converted == null) {
        throw new ModelFormatException(file, field + " \"" + e.getKey() + "\" maps to " + e.getValue()
            + "; expected " + expected);
      }
      regex(e.getKey(), field, file);
      out.put(e.getKey(), converted);
    }
    return Collections.unmodifiableMap(out);
  }

  private static Integer rank(JsonNode v) {
    return v.isIntegralNumber() && v.canConvertToInt() && v.asInt() > 0 ? v.asInt() : null;
  }

  private static Double number(JsonNode v) {
    return v.isNumber() ? v.asDouble() : null;
  }
}

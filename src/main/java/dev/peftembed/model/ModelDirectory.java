package dev.peftembed.model;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything a sentence-transformers model directory says about how to encode text, read from its configs alone
 * (no weights), so that it can be validated on a Spark driver before any task runs.
 *
 * <p>Two kinds of directory are read: safetensors weights with {@code config.json}, run by our own BERT encoder, and
 * a TorchScript graph ({@code model.pt} and no safetensors), run as it is. Both share the sentence-transformers
 * configs (modules, pooling, Dense, Normalize, max_seq_length, prompts) and {@code tokenizer.json}.
 *
 * @param path the model directory
 * @param bert the encoder's architecture; {@code null} for a TorchScript directory
 * @param tokenizerFile {@code tokenizer.json}
 * @param maxSeqLength real-token limit from {@code sentence_bert_config.json}; it wins over tokenizer.json's own
 * @param doLowerCase whether sentence-transformers lower-cases texts before tokenizing
 * @param pooling the Pooling module
 * @param outputModules Dense and Normalize modules after pooling, in order
 * @param prompts named text prompts from {@code config_sentence_transformers.json}
 * @param defaultPromptName the prompt applied when none is asked for, or {@code null}
 * @param torchScript the graph's interface for a TorchScript directory, else {@code null}
 */
public record ModelDirectory(
    Path path,
    BertConfig bert,
    Path tokenizerFile,
    int maxSeqLength,
    boolean doLowerCase,
    PoolingConfig pooling,
    List<OutputModule> outputModules,
    Map<String, String> prompts,
    String defaultPromptName,
    TorchScriptConfig torchScript) {

  private static final Logger LOG = LoggerFactory.getLogger(ModelDirectory.class);

  private static final String TRANSFORMER = "sentence_transformers.models.Transformer";
  private static final String POOLING = "sentence_transformers.models.Pooling";
  private static final String DENSE = "sentence_transformers.models.Dense";
  private static final String NORMALIZE = "sentence_transformers.models.Normalize";

  /** The real-token limit of a TorchScript directory that states none: BERT's usual position table. */
  static final int TORCHSCRIPT_DEFAULT_MAX_SEQ_LENGTH = 512;

  /**
   * Reads and cross-checks every config of a model directory.
   *
   * @throws ModelFormatException one line naming the file and what was expected
   */
  public static ModelDirectory read(Path dir) {
    if (!Files.isDirectory(dir)) {
      throw new ModelFormatException(dir, "model directory not found (expected a sentence-transformers or "
          + "Hugging Face model directory with config.json, model.safetensors and tokenizer.json)");
    }
    if (TorchScriptConfig.isTorchScriptDirectory(dir)) {
      Path tokenizer = requireTokenizer(dir);
      TorchScriptConfig graph = TorchScriptConfig.read(dir);
      return readConfigs(dir, null, graph, tokenizer, graph.hiddenSize(), graph.maxPositions(),
          () -> TokenizerJson.truncationMaxLength(tokenizer).orElse(TORCHSCRIPT_DEFAULT_MAX_SEQ_LENGTH));
    }
    Path configFile = dir.resolve("config.json");
    BertConfig bert = BertConfig.read(configFile);
    Path tokenizer = requireTokenizer(dir);
    if (!Files.isRegularFile(dir.resolve("model.safetensors"))
        && !Files.isRegularFile(dir.resolve("model.safetensors.index.json"))) {
      throw new ModelFormatException(dir, Checkpoint.noSafetensorsMessage(dir, "model"));
    }
    return readConfigs(dir, bert, null, tokenizer, bert.hiddenSize(), bert.positionLimit(),
        () -> defaultMaxSeqLength(dir, bert));
  }

  private static Path requireTokenizer(Path dir) {
    Path tokenizer = dir.resolve("tokenizer.json");
    if (!Files.isRegularFile(tokenizer)) {
      throw new ModelFormatException(tokenizer, "file not found (expected the fast tokenizer saved by Hugging Face "
          + "tokenizers)");
    }
    return tokenizer;
  }

  /**
   * Reads the sentence-transformers configs both kinds of directory share.
   *
   * @param hiddenSize the token-embedding width, or {@code null} when only running the graph tells
   * @param maxPositions how many tokens the position table numbers, or {@code null} when unknown
   * @param defaultMaxSeq the real-token limit when sentence_bert_config.json states none
   */
  private static ModelDirectory readConfigs(Path dir, BertConfig bert, TorchScriptConfig graph, Path tokenizer,
      Integer hiddenSize, Integer maxPositions, IntSupplier defaultMaxSeq) {
    PoolingConfig pooling;
    List<OutputModule> outputs = new ArrayList<>();
    Path modulesFile = dir.resolve("modules.json");
    if (Files.isRegularFile(modulesFile)) {
      pooling = readModules(dir, modulesFile, outputs);
    } else {
      LOG.warn("{} has no modules.json: not a sentence-transformers directory, falling back to mean pooling as "
          + "sentence-transformers does", dir);
      pooling = PoolingConfig.meanOf(hiddenSize);
    }
    if (hiddenSize != null && !hiddenSize.equals(pooling.dimension())) {
      throw new ModelFormatException(dir.resolve("1_Pooling/config.json"), "word_embedding_dimension "
          + pooling.dimension() + " disagrees with hidden_size " + hiddenSize + " in config.json");
    }
    checkOutputWidths(pooling.outputDimension(), outputs);

    int maxSeq;
    boolean lower = false;
    Path stConfig = dir.resolve("sentence_bert_config.json");
    if (Files.isRegularFile(stConfig)) {
      JsonNode n = JsonFiles.read(stConfig);
      maxSeq = JsonFiles.optInt(n, "max_seq_length", defaultMaxSeq.getAsInt(), stConfig);
      lower = JsonFiles.optBoolean(n, "do_lower_case", false, stConfig);
      if (maxSeq <= 1) {
        throw new ModelFormatException(stConfig, "max_seq_length must be at least 2, found " + maxSeq);
      }
    } else {
      maxSeq = defaultMaxSeq.getAsInt();
    }
    if (maxPositions != null) {
      maxSeq = Math.min(maxSeq, maxPositions);
    }

    Map<String, String> prompts = Map.of();
    String defaultPrompt = null;
    Path stModelConfig = dir.resolve("config_sentence_transformers.json");
    if (Files.isRegularFile(stModelConfig)) {
      JsonNode n = JsonFiles.read(stModelConfig);
      prompts = readPrompts(n, stModelConfig);
      defaultPrompt = JsonFiles.optText(n, "default_prompt_name", null, stModelConfig);
      if (defaultPrompt != null && !prompts.containsKey(defaultPrompt)) {
        throw new ModelFormatException(stModelConfig, "default_prompt_name \"" + defaultPrompt
            + "\" is not one of the prompts " + prompts.keySet());
      }
    }
    return new ModelDirectory(dir, bert, tokenizer, maxSeq, lower, pooling, List.copyOf(outputs), prompts,
        defaultPrompt, graph);
  }

  private static PoolingConfig readModules(Path dir, Path modulesFile, List<OutputModule> outputs) {
    JsonNode modules = JsonFiles.read(modulesFile);
    if (!modules.isArray() || modules.isEmpty()) {
      throw new ModelFormatException(modulesFile, "expected a non-empty JSON array of modules");
    }
    PoolingConfig pooling = null;
    boolean sawTransformer = false;
    for (JsonNode m : modules) {
      String type = JsonFiles.optText(m, "type", "", modulesFile);
      String rel = JsonFiles.optText(m, "path", "", modulesFile);
      Path moduleDir = JsonFiles.inside(dir, rel, modulesFile, "module path");
      switch (type) {
        case TRANSFORMER -> {
          if (sawTransformer || pooling != null) {
            throw new ModelFormatException(modulesFile, "expected exactly one Transformer module, first");
          }
          sawTransformer = true;
        }
        case POOLING -> {
          if (!sawTransformer || pooling != null) {
            throw new ModelFormatException(modulesFile, "expected one Pooling module after the Transformer");
          }
          pooling = PoolingConfig.read(moduleDir.resolve("config.json"));
        }
        case DENSE -> outputs.add(DenseConfig.read(moduleDir));
        case NORMALIZE -> outputs.add(new OutputModule.Normalize());
        default -> throw new ModelFormatException(modulesFile, "module type \"" + type + "\" is not supported "
            + "(expected Transformer, Pooling, Dense and Normalize from sentence_transformers.models)");
      }
      if (!outputs.isEmpty() && pooling == null) {
        throw new ModelFormatException(modulesFile, "Dense and Normalize modules must come after Pooling");
      }
    }
    if (pooling == null) {
      throw new ModelFormatException(modulesFile, "no " + POOLING + " module listed");
    }
    return pooling;
  }

  private static void checkOutputWidths(Integer width, List<OutputModule> outputs) {
    Integer w = width;
    for (OutputModule m : outputs) {
      if (m instanceof DenseConfig d) {
        if (w != null && d.inFeatures() != w) {
          throw new ModelFormatException(d.directory().resolve("config.json"), "in_features " + d.inFeatures()
              + " disagrees with the width " + w + " of the module before it");
        }
        w = d.outFeatures();
      }
    }
  }

  /** sentence-transformers falls back to the tokenizer's model_max_length, capped by the position table. */
  private static int defaultMaxSeqLength(Path dir, BertConfig bert) {
    Path tokConfig = dir.resolve("tokenizer_config.json");
    if (Files.isRegularFile(tokConfig)) {
      JsonNode v = JsonFiles.read(tokConfig).get("model_max_length");
      if (v != null && v.canConvertToLong() && v.asLong() > 0 && v.asLong() <= bert.positionLimit()) {
        return v.asInt();
      }
    }
    return bert.positionLimit();
  }

  private static Map<String, String> readPrompts(JsonNode n, Path file) {
    JsonNode p = n.get("prompts");
    if (p == null || p.isNull()) {
      return Map.of();
    }
    if (!p.isObject()) {
      throw new ModelFormatException(file, "\"prompts\" must be an object from prompt name to prompt text");
    }
    Map<String, String> prompts = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = p.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      if (!e.getValue().isTextual()) {
        throw new ModelFormatException(file, "prompt \"" + e.getKey() + "\" must be a string");
      }
      prompts.put(e.getKey(), e.getValue().asText());
    }
    return Collections.unmodifiableMap(prompts);
  }

  /**
   * @return the width of the vectors this model produces before any truncation, or {@code null} when only running
   *     the graph tells
   */
  public Integer outputDimension() {
    Integer w = pooling.outputDimension();
    for (OutputModule m : outputModules) {
      if (m instanceof DenseConfig d) {
        w = d.outFeatures();
      }
    }
    return w;
  }

  /** @return whether this is a TorchScript directory, run as its graph says rather than by our BERT encoder */
  public boolean isTorchScript() {
    return torchScript != null;
  }

  /** @return whether the model ends in a Normalize module */
  public boolean normalizes() {
    return !outputModules.isEmpty() && outputModules.get(outputModules.size() - 1) instanceof OutputModule.Normalize;
  }
}

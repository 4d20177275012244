package dev.peftembed.onnx;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.peftembed.model.BertConfig;
import dev.peftembed.model.SafetensorsWriter.Entry;
import dev.peftembed.model.SafetensorsWriter;
import dev.peftembed.pooling.PoolingMode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SortedMap;

/**
 * Writes a sentence-transformers model directory around BERT weights: {@code model.safetensors}, {@code
 * config.json}, the tokenizer, {@code sentence_bert_config.json}, {@code modules.json} and the Pooling (and
 * optionally Normalize) module, with the files as sentence-transformers itself saves them.
 */
final class SentenceTransformersWriter {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The pooling keys in the order sentence-transformers' {@code Pooling} saves them, so the file reads alike. */
  private static final List<PoolingMode> SAVED_KEY_ORDER = List.of(PoolingMode.CLS, PoolingMode.MEAN,
      PoolingMode.MAX, PoolingMode.MEAN_SQRT_LEN, PoolingMode.WEIGHTED_MEAN, PoolingMode.LAST_TOKEN);

  private SentenceTransformersWriter() {}

  /**
   * @param dir an empty directory
   * @param weights the encoder's weights under Hugging Face names
   * @param tokenizerJson copied as is
   * @param options the pooling mode, normalization and sequence length
   */
  static void write(Path dir, SortedMap<String, Entry> weights, BertConfig config, Path tokenizerJson,
      ImportOptions options) throws IOException {
    SafetensorsWriter.write(dir.resolve("model.safetensors"), weights);
    writeJson(dir.resolve("config.json"), configJson(config));
    Files.copy(tokenizerJson, dir.resolve("tokenizer.json"));

    ObjectNode st = JSON.createObjectNode();
    st.put("max_seq_length", options.maxSeqLength());
    st.put("do_lower_case", false);
    writeJson(dir.resolve("sentence_bert_config.json"), st);

    ArrayNode modules = JSON.createArrayNode();
    addModule(modules, "", "sentence_transformers.models.Transformer");
    addModule(modules, "1_Pooling", "sentence_transformers.models.Pooling");
    Files.createDirectory(dir.resolve("1_Pooling"));
    writeJson(dir.resolve("1_Pooling/config.json"), poolingConfig(config.hiddenSize(), options.poolingMode()));
    if (options.normalize()) {
      addModule(modules, "2_Normalize", "sentence_transformers.models.Normalize");
      Files.createDirectory(dir.resolve("2_Normalize"));
    }
    writeJson(dir.resolve("modules.json"), modules);
  }

  /** The config.json that {@link BertConfig#read} reads back to {@code config}. */
  private static ObjectNode configJson(BertConfig config) {
    ObjectNode node = JSON.createObjectNode();
    node.putArray("architectures").add("BertModel");
    node.put("model_type", "bert");
    node.put("hidden_size", config.hiddenSize());
    node.put("num_hidden_layers", config.numLayers());
    node.put("num_attention_heads", config.numHeads());
    node.put("intermediate_size", config.intermediateSize());
    node.put("max_position_embeddings", config.maxPositions());
    node.put("vocab_size", config.vocabSize());
    node.put("type_vocab_size", config.typeVocabSize());
    node.put("layer_norm_eps", config.layerNormEps());
    node.put("hidden_act", config.activation().configName());
    node.put("pad_token_id", 0);
    return node;
  }

  private static void addModule(ArrayNode modules, String path, String type) {
    int idx = modules.size();
    modules.addObject().put("idx", idx).put("name", Integer.toString(idx)).put("path", path).put("type", type);
  }

  private static ObjectNode poolingConfig(int dimension, PoolingMode pooling) {
    ObjectNode node = JSON.createObjectNode();
    node.put("word_embedding_dimension", dimension);
    for (PoolingMode mode : SAVED_KEY_ORDER) {
      node.put(mode.configKey(), mode == pooling);
    }
    node.put("include_prompt", true);
    return node;
  }

  private static void writeJson(Path file, JsonNode node) throws IOException {
    Files.writeString(file, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(node) + "\n");
  }
}

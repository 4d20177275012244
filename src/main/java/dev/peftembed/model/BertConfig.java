package dev.peftembed.model;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The architecture facts of a BERT-family encoder, read from {@code config.json}.
 *
 * @param hiddenSize width of every token vector
 * @param numLayers number of transformer layers
 * @param numHeads attention heads per layer
 * @param intermediateSize width of the feed-forward layer
 * @param maxPositions size of the learned position table: real plus virtual tokens must fit it
 * @param vocabSize rows of the word-embedding table
 * @param typeVocabSize rows of the token-type table
 * @param layerNormEps epsilon of every LayerNorm
 * @param activation the feed-forward activation
 * @param nameOrPath {@code _name_or_path}, when the file records it
 */
public record BertConfig(
    int hiddenSize,
    int numLayers,
    int numHeads,
    int intermediateSize,
    int maxPositions,
    int vocabSize,
    int typeVocabSize,
    double layerNormEps,
    HiddenActivation activation,
    String nameOrPath) {

  /** Model types whose checkpoints share BERT's layout and forward pass. */
  private static final java.util.Set<String> BERT_FAMILY = java.util.Set.of("bert");

  /**
   * Reads and validates {@code config.json}.
   *
   * @throws ModelFormatException naming the file and the field at fault
   */
  public static BertConfig read(Path file) {
    JsonNode n = JsonFiles.read(file);
    String modelType = JsonFiles.optText(n, "model_type", "bert", file).toLowerCase(Locale.ROOT);
    if (!BERT_FAMILY.contains(modelType)) {
      throw new ModelFormatException(file, "model_type \"" + modelType
          + "\" is not supported (expected a BERT-family encoder: model_type \"bert\")");
    }
    BertConfig c = new BertConfig(
        JsonFiles.requireInt(n, "hidden_size", file),
        JsonFiles.requireInt(n, "num_hidden_layers", file),
        JsonFiles.requireInt(n, "num_attention_heads", file),
        JsonFiles.requireInt(n, "intermediate_size", file),
        JsonFiles.requireInt(n, "max_position_embeddings", file),
        JsonFiles.requireInt(n, "vocab_size", file),
        JsonFiles.optInt(n, "type_vocab_size", 2, file),
        JsonFiles.optDouble(n, "layer_norm_eps", 1e-12, file),
        HiddenActivation.fromConfig(JsonFiles.optText(n, "hidden_act", "gelu", file), file),
        JsonFiles.optText(n, "_name_or_path", null, file));
    c.validate(file);
    return c;
  }

  private void validate(Path file) {
    positive(hiddenSize, "hidden_size", file);
    positive(numLayers, "num_hidden_layers", file);
    positive(numHeads, "num_attention_heads", file);
    positive(intermediateSize, "intermediate_size", file);
    positive(maxPositions, "max_position_embeddings", file);
    positive(vocabSize, "vocab_size", file);
    positive(typeVocabSize, "type_vocab_size", file);
    if (hiddenSize % numHeads != 0) {
      throw new ModelFormatException(file, "hidden_size " + hiddenSize + " is not a multiple of num_attention_heads "
          + numHeads);
    }
    if (!(layerNormEps > 0)) {
      throw new ModelFormatException(file, "layer_norm_eps must be positive, found " + layerNormEps);
    }
  }

  private static void positive(int value, String field, Path file) {
    if (value <= 0) {
      throw new ModelFormatException(file, "field \"" + field + "\" must be positive, found " + value);
    }
  }

  /** @return width of one attention head */
  public int headSize() {
    return hiddenSize / numHeads;
  }
}

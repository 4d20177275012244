package dev.peftembed.model;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;

/**
 * The architecture facts of a BERT-family encoder (BERT, RoBERTa, XLM-RoBERTa, DistilBERT), read from
 * {@code config.json} under the field names each {@code model_type} uses.
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
 * @param architecture which module tree and position rule the checkpoint follows
 * @param padTokenId {@code pad_token_id} of RoBERTa and XLM-RoBERTa, which number real tokens from it plus one; 0
 *     for the others, which do not read it
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
    String nameOrPath,
    Architecture architecture,
    int padTokenId) {

  /** MPNet's {@code padding_idx} (modeling_mpnet.py, {@code MPNetEmbeddings.__init__}). */
  public static final int MPNET_PADDING_IDX = 1;

  /** Rows of MPNet's {@code encoder.relative_attention_bias}: the buckets its distances fall into. */
  public static final int MPNET_RELATIVE_BUCKETS = 32;

  /** DistilBERT's LayerNorms have this epsilon built in (modeling_distilbert.py, {@code eps=1e-12}). */
  private static final double DISTILBERT_LAYER_NORM_EPS = 1e-12;

  /** A BERT, as an ONNX import infers it: no padding-relative positions. */
  public BertConfig(int hiddenSize, int numLayers, int numHeads, int intermediateSize, int maxPositions,
      int vocabSize, int typeVocabSize, double layerNormEps, HiddenActivation activation, String nameOrPath) {
    this(hiddenSize, numLayers, numHeads, intermediateSize, maxPositions, vocabSize, typeVocabSize, layerNormEps,
        activation, nameOrPath, Architecture.BERT, 0);
  }

  /**
   * Reads and validates {@code config.json}.
   *
   * @throws ModelFormatException naming the file and the field at fault
   */
  public static BertConfig read(Path file) {
    JsonNode n = JsonFiles.read(file);
    Architecture architecture = Architecture.fromModelType(JsonFiles.optText(n, "model_type", "bert", file), file);
    BertConfig c = switch (architecture) {
      case BERT, ROBERTA, XLM_ROBERTA -> readBert(n, file, architecture);
      case DISTILBERT -> readDistilBert(n, file);
      case MPNET -> readMPNet(n, file);
    };
    c.validate(file);
    return c;
  }

  /** BERT's field names, which RoBERTa and XLM-RoBERTa share (configuration_bert.py, configuration_roberta.py). */
  private static BertConfig readBert(JsonNode n, Path file, Architecture architecture) {
    // RoBERTa's pad_token_id defaults to 1 (configuration_roberta.py); BERT numbers nothing, so it is not read
    return bertFields(n, file, architecture, JsonFiles.optInt(n, "type_vocab_size", 2, file),
        architecture.numbersPositionsAfterPadding() ? JsonFiles.optInt(n, "pad_token_id", 1, file) : 0);
  }

  /**
   * MPNet's field names are BERT's (configuration_mpnet.py), without token types. Its positions count from its
   * {@code padding_idx}, fixed at 1 in the model code whatever pad_token_id says (modeling_mpnet.py,
   * {@code MPNetEmbeddings.__init__}).
   */
  private static BertConfig readMPNet(JsonNode n, Path file) {
    requireMPNetBuckets(n, file);
    return bertFields(n, file, Architecture.MPNET, 1, MPNET_PADDING_IDX);
  }

  private static BertConfig bertFields(JsonNode n, Path file, Architecture architecture, int typeVocabSize,
      int padTokenId) {
    return new BertConfig(
        JsonFiles.requireInt(n, "hidden_size", file),
        JsonFiles.requireInt(n, "num_hidden_layers", file),
        JsonFiles.requireInt(n, "num_attention_heads", file),
        JsonFiles.requireInt(n, "intermediate_size", file),
        JsonFiles.requireInt(n, "max_position_embeddings", file),
        JsonFiles.requireInt(n, "vocab_size", file),
        typeVocabSize,
        JsonFiles.optDouble(n, "layer_norm_eps", 1e-12, file),
        HiddenActivation.fromConfig(JsonFiles.optText(n, "hidden_act", "gelu", file), file),
        JsonFiles.optText(n, "_name_or_path", null, file),
        architecture,
        padTokenId);
  }

  /**
   * transformers' MPNetEncoder sizes its bias table by {@code relative_attention_num_buckets} but always buckets
   * distances into 32 ({@code compute_position_bias}'s default), so only a 32-bucket table is read as it trained.
   */
  private static void requireMPNetBuckets(JsonNode n, Path file) {
    int buckets = JsonFiles.optInt(n, "relative_attention_num_buckets", MPNET_RELATIVE_BUCKETS, file);
    if (buckets != MPNET_RELATIVE_BUCKETS) {
      throw new ModelFormatException(file, "relative_attention_num_buckets " + buckets + " is not supported "
          + "(expected " + MPNET_RELATIVE_BUCKETS + ", the bucket count transformers' MPNet computes with)");
    }
  }

  /** DistilBERT names its sizes dim, n_layers, n_heads and hidden_dim (configuration_distilbert.py). */
  private static BertConfig readDistilBert(JsonNode n, Path file) {
    return new BertConfig(
        JsonFiles.requireInt(n, "dim", file),
        JsonFiles.requireInt(n, "n_layers", file),
        JsonFiles.requireInt(n, "n_heads", file),
        JsonFiles.requireInt(n, "hidden_dim", file),
        JsonFiles.requireInt(n, "max_position_embeddings", file),
        JsonFiles.requireInt(n, "vocab_size", file),
        1,
        DISTILBERT_LAYER_NORM_EPS,
        HiddenActivation.fromConfig(JsonFiles.optText(n, "activation", "gelu", file), file),
        JsonFiles.optText(n, "_name_or_path", null, file),
        Architecture.DISTILBERT,
        0);
  }

  private void validate(Path file) {
    positive(hiddenSize, field("hidden_size"), file);
    positive(numLayers, field("num_hidden_layers"), file);
    positive(numHeads, field("num_attention_heads"), file);
    positive(intermediateSize, field("intermediate_size"), file);
    positive(maxPositions, "max_position_embeddings", file);
    positive(vocabSize, "vocab_size", file);
    positive(typeVocabSize, "type_vocab_size", file);
    if (hiddenSize % numHeads != 0) {
      throw new ModelFormatException(file, field("hidden_size") + " " + hiddenSize + " is not a multiple of "
          + field("num_attention_heads") + " " + numHeads);
    }
    if (architecture.numbersPositionsAfterPadding() && (padTokenId < 0 || padTokenId + 1L >= maxPositions)) {
      throw new ModelFormatException(file, "pad_token_id " + padTokenId + " leaves no position of the "
          + maxPositions + " in max_position_embeddings for a token (positions start at pad_token_id + 1)");
    }
    if (!(layerNormEps > 0)) {
      throw new ModelFormatException(file, "layer_norm_eps must be positive, found " + layerNormEps);
    }
  }

  /** @return the name config.json gives the size BERT calls {@code bertName}, for messages */
  private String field(String bertName) {
    if (architecture != Architecture.DISTILBERT) {
      return bertName;
    }
    return switch (bertName) {
      case "hidden_size" -> "dim";
      case "num_hidden_layers" -> "n_layers";
      case "num_attention_heads" -> "n_heads";
      case "intermediate_size" -> "hidden_dim";
      default -> bertName;
    };
  }

  private static void positive(int value, String field, Path file) {
    if (value <= 0) {
      throw new ModelFormatException(file, "field \"" + field + "\" must be positive, found " + value);
    }
  }

  /** @return the position id of the first token: {@code pad_token_id + 1} for RoBERTa, 0 otherwise */
  public int firstPosition() {
    return architecture.numbersPositionsAfterPadding() ? padTokenId + 1 : 0;
  }

  /** @return how many tokens, virtual ones and a prefix included, the position table numbers */
  public int positionLimit() {
    return maxPositions - firstPosition();
  }

  /** @return width of one attention head */
  public int headSize() {
    return hiddenSize / numHeads;
  }
}

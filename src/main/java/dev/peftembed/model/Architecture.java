package dev.peftembed.model;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The encoder architectures we run natively, by the {@code model_type} their {@code config.json} records. This is
 * the one list of supported types. To add one, add it here: every switch that must handle it (config reading in
 * {@link BertConfig}, {@link BertWeightLayout}, the module classes in {@code BertModel.load}, LoRA's module tree)
 * is an exhaustive switch expression, so the compiler names each place.
 */
public enum Architecture {
  /** BERT and its many fine-tunes (MiniLM, BGE, E5, GTE): token types, positions 0..N−1. */
  BERT("bert"),
  /** RoBERTa: BERT's layers; positions numbered from {@code pad_token_id + 1}, one token type. */
  ROBERTA("roberta"),
  /** XLM-RoBERTa (multilingual-e5, paraphrase-multilingual, bge-m3): RoBERTa's layout under another name. */
  XLM_ROBERTA("xlm-roberta"),
  /** DistilBERT: BERT's computation under other weight names, no token types, positions 0..N−1. */
  DISTILBERT("distilbert"),
  /**
   * MPNet (all-mpnet-base-v2): its own layers with a relative position bias, positions numbered from its fixed
   * {@code padding_idx} 1 plus one, no token types.
   */
  MPNET("mpnet");

  private final String modelType;

  Architecture(String modelType) {
    this.modelType = modelType;
  }

  /** @return the {@code model_type} value of config.json */
  public String modelType() {
    return modelType;
  }

  /**
   * @return whether positions are numbered as RoBERTa's {@code create_position_ids_from_input_ids} does: from
   *     {@code padding_idx + 1}
   */
  public boolean numbersPositionsAfterPadding() {
    return this == ROBERTA || this == XLM_ROBERTA || this == MPNET;
  }

  /** @return whether the embeddings add a token-type row */
  public boolean hasTokenTypes() {
    return this != DISTILBERT && this != MPNET;
  }

  /**
   * @param modelType config.json's {@code model_type}, any case
   * @throws ModelFormatException one line naming {@code file} and every supported type
   */
  public static Architecture fromModelType(String modelType, Path file) {
    String wanted = modelType.toLowerCase(Locale.ROOT);
    for (Architecture a : values()) {
      if (a.modelType.equals(wanted)) {
        return a;
      }
    }
    throw new ModelFormatException(file, "model_type \"" + modelType + "\" is not supported (expected one of "
        + Arrays.stream(values()).map(a -> "\"" + a.modelType + "\"").collect(Collectors.joining(", ")) + ")");
  }
}

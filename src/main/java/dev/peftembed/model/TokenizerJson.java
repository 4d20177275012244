package dev.peftembed.model;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.OptionalInt;

/**
 * Settings read from a Hugging Face {@code tokenizer.json} without building its vocabulary: the file is streamed and
 * only the requested top-level entry is kept, because multilingual vocabularies make it tens of MB.
 */
final class TokenizerJson {
  private static final ObjectMapper JSON = new ObjectMapper();

  private TokenizerJson() {}

  /**
   * @return {@code truncation.max_length}, or empty when the tokenizer was saved without truncation
   * @throws ModelFormatException if the file is not a JSON object or the field is not a positive integer
   */
  static OptionalInt truncationMaxLength(Path file) {
    try (JsonParser p = JSON.getFactory().createParser(file.toFile())) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw new ModelFormatException(file, "expected a JSON object (a Hugging Face tokenizers file)");
      }
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        JsonToken value = p.nextToken();
        if (!"truncation".equals(name)) {
          p.skipChildren();
          continue;
        }
        if (value != JsonToken.START_OBJECT) {
          return OptionalInt.empty();
        }
        JsonNode truncation = JSON.readTree(p);
        int max = JsonFiles.optInt(truncation, "max_length", 0, file);
        if (max <= 0) {
          throw new ModelFormatException(file, "truncation.max_length must be a positive integer, found "
              + truncation.get("max_length"));
        }
        return OptionalInt.of(max);
      }
      return OptionalInt.empty();
    } catch (IOException e) {
      throw new ModelFormatException(file, "is not valid JSON: "
          + String.valueOf(e.getMessage()).lines().findFirst().orElse(""), e);
    }
  }
}

package dev.peftembed.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;

/** Reading the small JSON configs of a model directory, with errors that name the file and the field. */
public final class JsonFiles {
  /** Config files are a few KB; a bigger one is not a config. */
  private static final long MAX_CONFIG_BYTES = 16L << 20;

  private static final ObjectMapper JSON = new ObjectMapper();

  private JsonFiles() {}

  /**
   * Parses a JSON file.
   *
   * @throws ModelFormatException if it is missing, too large or not JSON
   */
  public static JsonNode read(Path file) {
    if (!Files.isRegularFile(file)) {
      throw new ModelFormatException(file, "file not found");
    }
    try {
      if (Files.size(file) > MAX_CONFIG_BYTES) {
        throw new ModelFormatException(file, "is " + Files.size(file) + " bytes; a config file is at most "
            + MAX_CONFIG_BYTES);
      }
      JsonNode node = JSON.readTree(file.toFile());
      if (node == null || node.isMissingNode()) {
        throw new ModelFormatException(file, "is empty (expected a JSON document)");
      }
      return node;
    } catch (IOException e) {
      throw new ModelFormatException(file, "is not valid JSON: " + firstLine(e.getMessage()), e);
    }
  }

  /** @return a required integer field */
  public static int requireInt(JsonNode node, String field, Path file) {
    JsonNode v = node.get(field);
    if (v == null || !v.canConvertToInt()) {
      throw new ModelFormatException(file, "missing or non-integer field \"" + field + "\" (expected an integer)");
    }
    return v.asInt();
  }

  /** @return an optional integer field, or {@code fallback} */
  public static int optInt(JsonNode node, String field, int fallback, Path file) {
    JsonNode v = node.get(field);
    if (v == null || v.isNull()) {
      return fallback;
    }
    if (!v.canConvertToInt()) {
      throw new ModelFormatException(file, "field \"" + field + "\" must be an integer, found " + v);
    }
    return v.asInt();
  }

  /** @return an optional number field, or {@code fallback} */
  public static double optDouble(JsonNode node, String field, double fallback, Path file) {
    JsonNode v = node.get(field);
    if (v == null || v.isNull()) {
      return fallback;
    }
    if (!v.isNumber()) {
      throw new ModelFormatException(file, "field \"" + field + "\" must be a number, found " + v);
    }
    return v.asDouble();
  }

  /** @return an optional boolean field, or {@code fallback} */
  public static boolean optBoolean(JsonNode node, String field, boolean fallback, Path file) {
    JsonNode v = node.get(field);
    if (v == null || v.isNull()) {
      return fallback;
    }
    if (!v.isBoolean()) {
      throw new ModelFormatException(file, "field \"" + field + "\" must be true or false, found " + v);
    }
    return v.asBoolean();
  }

  /** @return an optional string field, or {@code fallback} */
  public static String optText(JsonNode node, String field, String fallback, Path file) {
    JsonNode v = node.get(field);
    if (v == null || v.isNull()) {
      return fallback;
    }
    if (!v.isTextual()) {
      throw new ModelFormatException(file, "field \"" + field + "\" must be a string, found " + v);
    }
    return v.asText();
  }

  /**
   * Resolves a relative path a config names (a module folder, a shard file) inside {@code dir}.
   *
   * @param file the config that names it, for messages
   * @param what what the path is, for messages
   * @throws ModelFormatException if the path is not a valid path or leads outside {@code dir}
   */
  public static Path inside(Path dir, String relative, Path file, String what) {
    Path resolved;
    try {
      resolved = dir.resolve(relative).normalize();
    } catch (InvalidPathException e) {
      throw new ModelFormatException(file, what + " \"" + relative + "\" is not a valid path", e);
    }
    if (!resolved.startsWith(dir.normalize())) {
      throw new ModelFormatException(file, what + " \"" + relative + "\" is outside the model directory");
    }
    return resolved;
  }

  private static String firstLine(String s) {
    if (s == null) {
      return "";
    }
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }
}

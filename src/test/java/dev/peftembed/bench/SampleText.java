package dev.peftembed.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** The sentences of the sample corpus bundled with the application, the only source text of the benchmark. */
final class SampleText {
  /** The classpath resource: JSON lines with a {@code text} field. */
  static final String RESOURCE = "samples/corpus.jsonl";

  private SampleText() {}

  /** @return the sentences, in file order */
  static List<String> sentences() {
    ObjectMapper json = new ObjectMapper();
    List<String> out = new ArrayList<>();
    try (InputStream in = SampleText.class.getClassLoader().getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(RESOURCE + " is not on the classpath");
      }
      BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
      for (String line = reader.readLine(); line != null; line = reader.readLine()) {
        if (!line.isBlank()) {
          JsonNode text = json.readTree(line).get("text");
          if (text != null && !text.asText().isBlank()) {
            out.add(text.asText());
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + RESOURCE, e);
    }
    return out;
  }
}

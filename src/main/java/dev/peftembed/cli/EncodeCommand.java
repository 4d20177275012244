package dev.peftembed.cli;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.peftembed.embed.Embedding;
import dev.peftembed.embed.MultiAdapterEncoder;
import dev.peftembed.embed.MultiAdapterPlan;
import dev.peftembed.embed.NamedAdapters;
import dev.peftembed.embed.SentenceEncoder;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code encode}: JSON lines in, JSON lines out, in input order, without Spark. Reads in windows so memory stays
 * bounded on any input size.
 */
@Command(name = "encode", mixinStandardHelpOptions = true,
    description = "Encode JSON lines {\"id\":...,\"text\":...} to {\"id\",\"embedding\",\"num_tokens\",\"truncated\"}.")
final class EncodeCommand implements Callable<Integer> {
  private static final Logger LOG = LoggerFactory.getLogger(EncodeCommand.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Rows tokenized and sorted together: large enough for good batches, small enough to bound memory. */
  private static final int WINDOW = 4096;

  @Mixin
  EncoderFlags flags = new EncoderFlags();

  @Option(names = "--input", paramLabel = "FILE", description = "JSON lines to read (default: stdin)")
  Path input;

  @Option(names = "--output", paramLabel = "FILE", description = "JSON lines to write (default: stdout)")
  Path output;

  @Option(names = "--text-field", defaultValue = "text", description = "field holding the text (default: "
      + "${DEFAULT-VALUE})")
  String textField;

  @Option(names = "--id-field", defaultValue = "id", description = "field holding the id (default: ${DEFAULT-VALUE})")
  String idField;

  @Option(names = "--adapter-field", defaultValue = "adapter", description = "with named adapters, the field naming "
      + "each row's adapter; missing or null: the base model (default: ${DEFAULT-VALUE})")
  String adapterField;

  /** Encodes a window's texts, each with the adapter its row names ({@code null}: none). */
  private interface WindowEncoder extends AutoCloseable {
    List<Embedding> encode(List<String> texts, List<String> adapters);

    @Override
    void close();
  }

  private WindowEncoder load() {
    Map<String, Path> named = flags.namedAdapters();
    if (named.isEmpty()) {
      SentenceEncoder one = SentenceEncoder.load(flags.modelDir(), flags.singleAdapter(), flags.options());
      return new WindowEncoder() {
        @Override
        public List<Embedding> encode(List<String> texts, List<String> adapters) {
          return one.encode(texts);
        }

        @Override
        public void close() {
          one.close();
        }
      };
    }
    MultiAdapterEncoder many = MultiAdapterEncoder.load(MultiAdapterPlan.resolve(flags.modelDir(), named,
        flags.options()));
    return new WindowEncoder() {
      @Override
      public List<Embedding> encode(List<String> texts, List<String> adapters) {
        return many.encode(texts, adapters);
      }

      @Override
      public void close() {
        many.close();
      }
    };
  }

  @Override
  public Integer call() throws IOException {
    EncodeSummary summary = new EncodeSummary();
    String adapterKey = flags.namedAdapters().isEmpty() ? null : adapterField;
    long start;
    try (WindowEncoder encoder = load();
        BufferedReader in = new BufferedReader(new InputStreamReader(
            input == null ? System.in : Files.newInputStream(input), StandardCharsets.UTF_8));
        OutputStream rawOut = output == null ? nonClosing(System.out) : Files.newOutputStream(output);
        JsonGenerator out = new JsonFactory().createGenerator(rawOut, JsonEncoding.UTF8)) {
      out.setRootValueSeparator(null);
      start = System.nanoTime();
      List<InputRow> window = new ArrayList<>(WINDOW);
      long lineNumber = 0;
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        lineNumber++;
        if (line.isBlank()) {
          continue;
        }
        window.add(InputRow.parse(line, lineNumber, idField, textField, adapterKey));
        if (window.size() == WINDOW) {
          writeWindow(encoder, window, out, summary);
          window.clear();
        }
      }
      writeWindow(encoder, window, out, summary);
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    LOG.info("{} in {} s after loading ({} texts/s)", summary, String.format("%.2f", seconds),
        String.format("%.1f", summary.embedded / seconds));
    return 0;
  }

  private static void writeWindow(WindowEncoder encoder, List<InputRow> rows, JsonGenerator out,
      EncodeSummary summary) throws IOException {
    if (rows.isEmpty()) {
      return;
    }
    // A row already bad (not JSON, no string text) reaches no adapter, as a null text reaches none.
    List<String> texts = rows.stream().map(InputRow::text).toList();
    List<String> adapters = rows.stream().map(r -> r.text() == null ? null : r.adapter()).toList();
    List<Embedding> embeddings = encoder.encode(texts, adapters);
    for (int i = 0; i < rows.size(); i++) {
      InputRow row = rows.get(i);
      Embedding e = embeddings.get(i);
      summary.count(row, e);
      out.writeStartObject();
      out.writeFieldName("id");
      if (row.id() == null) {
        out.writeNull();
      } else {
        JSON.writeTree(out, row.id());
      }
      out.writeFieldName("embedding");
      boolean ok = e != null && e.succeeded();
      if (!ok) {
        out.writeNull();
      } else {
        // Jackson prints floats with Float.toString: the shortest text that reads back as the same float32.
        out.writeStartArray();
        for (float v : e.vector()) {
          out.writeNumber(v);
        }
        out.writeEndArray();
      }
      out.writeNumberField("num_tokens", ok ? e.numTokens() : 0);
      out.writeBooleanField("truncated", ok && e.truncated());
      String error = row.error() != null ? row.error() : e == null ? null : e.error();
      if (error != null) {
        out.writeStringField("error", error);
      }
      out.writeEndObject();
      out.writeRaw('\n');
    }
    out.flush();
  }

  /**
   * One input line: its id, text and adapter name, or why it has none.
   *
   * @param adapter the adapter the row names, or {@code null} for the base model
   */
  record InputRow(JsonNode id, String text, String adapter, String error) {
    /** @param adapterField the field naming the row's adapter, or {@code null} without named adapters */
    static InputRow parse(String line, long lineNumber, String idField, String textField, String adapterField) {
      JsonNode node;
      try {
        node = JSON.readTree(line);
      } catch (IOException e) {
        return new InputRow(null, null, null, "line " + lineNumber + ": not valid JSON");
      }
      if (node == null || !node.isObject()) {
        return new InputRow(null, null, null, "line " + lineNumber + ": not a JSON object");
      }
      JsonNode id = node.get(idField);
      JsonNode text = node.get(textField);
      JsonNode adapter = adapterField == null ? null : node.get(adapterField);
      if (adapter != null && !adapter.isNull() && !adapter.isTextual()) {
        return new InputRow(id, null, null, "line " + lineNumber + ": field \"" + adapterField + "\" is not a "
            + "string");
      }
      String adapterName = adapter == null || adapter.isNull() ? null : adapter.asText();
      if (text == null || text.isNull()) {
        return new InputRow(id, null, adapterName, null);
      }
      if (!text.isTextual()) {
        return new InputRow(id, null, null, "line " + lineNumber + ": field \"" + textField + "\" is not a string");
      }
      return new InputRow(id, text.asText(), adapterName, null);
    }
  }

  /** What happened to the rows, for the closing log line. */
  static final class EncodeSummary {
    long rows;
    long embedded;
    long nullText;
    long badRows;
    long unknownAdapter;
    long truncated;

    void count(InputRow row, Embedding e) {
      rows++;
      if (e != null && !e.succeeded() && e.error().startsWith(NamedAdapters.UNKNOWN)) {
        unknownAdapter++;
      } else if (row.error() != null || (e != null && !e.succeeded())) {
        badRows++;
      } else if (e == null) {
        nullText++;
      } else {
        embedded++;
        if (e.truncated()) {
          truncated++;
        }
      }
    }

    @Override
    public String toString() {
      return "rows " + rows + ", embedded " + embedded + ", null text " + nullText + ", bad rows " + badRows
          + ", unknown_adapter " + unknownAdapter + ", truncated " + truncated;
    }
  }

  private static OutputStream nonClosing(OutputStream s) {
    return new java.io.FilterOutputStream(s) {
      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        out.write(b, off, len);
      }

      @Override
      public void close() throws IOException {
        flush();
      }
    };
  }
}

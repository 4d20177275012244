package dev.peftembed.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.peftembed.embed.EncoderOptions;
import dev.peftembed.embed.MultiAdapterEncoder;
import dev.peftembed.embed.MultiAdapterPlan;
import dev.peftembed.embed.SentenceEncoder;
import dev.peftembed.onnx.DefaultModel;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Eight LoRA adapters over one all-MiniLM-L6-v2, against the base model alone and against one adapter: throughput
 * and peak resident memory. Prints figures; asserts nothing. Run by {@code scripts/bench-adapters}, one JVM per
 * memory figure, since a JVM's peak (VmHWM) only grows.
 *
 * <p>The adapters are the committed LoRA fixtures of all-MiniLM-L6-v2 (seven target sets, the every-linear one
 * twice), so each costs what its own target set costs. The texts are the sample corpus, repeated, encoded in windows
 * of 2048 rows as a Spark partition is, rows spread round-robin over the adapters.
 */
public final class MultiAdapterBench {
  private static final int WINDOW = 2048;
  private static final String[] CASES = {"qv-peft", "all-linear-hf", "regex-peft", "rslora-hf", "patterns-peft",
      "layers-hf", "bias-all-peft", "all-linear-hf"};

  private MultiAdapterBench() {}

  /**
   * @param args {@code throughput ROWS ROUNDS}, or {@code rss base|merged|one|eight ROWS}
   */
  public static void main(String[] args) throws IOException {
    Path model = DefaultModel.resolve();
    Path fixtures = Path.of(args.length > 3 ? args[3] : "src/test/resources/fixtures/lora/all-MiniLM-L6-v2");
    List<String> texts = texts(Integer.parseInt(args[args[0].equals("rss") ? 2 : 1]));
    EncoderOptions options = EncoderOptions.defaults().withDevice("cpu", "float32");
    if (args[0].equals("rss")) {
      String mode = args[1];
      long start = System.nanoTime();
      int done = switch (mode) {
        case "base", "merged" -> {
          try (SentenceEncoder e = SentenceEncoder.load(model, mode.equals("base") ? null
              : fixtures.resolve("all-linear-hf"), options)) {
            yield encodeAll(e, texts);
          }
        }
        default -> {
          try (MultiAdapterEncoder e = multi(model, fixtures, mode.equals("one") ? 1 : 8, options)) {
            yield encodeAll(e, texts, mode.equals("one") ? 1 : 8);
          }
        }
      };
      System.out.printf(Locale.ROOT, "rss %-6s rows %d in %.1f s, peak RSS %d MiB%n", mode, done,
          (System.nanoTime() - start) / 1e9, peakRssKb() / 1024);
      return;
    }
    int rounds = Integer.parseInt(args[2]);
    try (SentenceEncoder base = SentenceEncoder.load(model, null, options);
        SentenceEncoder merged = SentenceEncoder.load(model, fixtures.resolve("all-linear-hf"), options);
        MultiAdapterEncoder one = multi(model, fixtures, 1, options);
        MultiAdapterEncoder eight = multi(model, fixtures, 8, options)) {
      Map<String, Double> best = new LinkedHashMap<>();
      encodeAll(base, texts.subList(0, 200));
      encodeAll(eight, texts.subList(0, 200), 8);
      for (int r = 0; r < rounds; r++) {
        record(best, "base model alone", texts.size(), () -> encodeAll(base, texts));
        record(best, "1 LoRA (all-linear), merged", texts.size(), () -> encodeAll(merged, texts));
        record(best, "1 LoRA (all-linear), unmerged", texts.size(), () -> encodeAll(one, texts, 1));
        record(best, "8 LoRA, unmerged, rows mixed", texts.size(), () -> encodeAll(eight, texts, 8));
      }
      double baseRate = best.get("base model alone");
      best.forEach((name, rate) -> System.out.printf(Locale.ROOT, "%-32s %8.1f rows/s  %.2f of the base model%n",
          name, rate, rate / baseRate));
    }
  }

  private static void record(Map<String, Double> best, String name, int rows, Runnable run) {
    long start = System.nanoTime();
    run.run();
    double rate = rows / ((System.nanoTime() - start) / 1e9);
    best.merge(name, rate, Math::max);
  }

  private static MultiAdapterEncoder multi(Path model, Path fixtures, int count, EncoderOptions options) {
    Map<String, Path> adapters = new LinkedHashMap<>();
    for (int i = 0; i < count; i++) {
      adapters.put("a" + i, fixtures.resolve(CASES[i]));
    }
    return MultiAdapterEncoder.load(MultiAdapterPlan.resolve(model, adapters, options));
  }

  private static int encodeAll(SentenceEncoder encoder, List<String> texts) {
    int done = 0;
    for (int from = 0; from < texts.size(); from += WINDOW) {
      done += encoder.encode(texts.subList(from, Math.min(texts.size(), from + WINDOW))).size();
    }
    return done;
  }

  private static int encodeAll(MultiAdapterEncoder encoder, List<String> texts, int adapters) {
    int done = 0;
    for (int from = 0; from < texts.size(); from += WINDOW) {
      List<String> window = texts.subList(from, Math.min(texts.size(), from + WINDOW));
      List<String> names = new ArrayList<>(window.size());
      for (int i = 0; i < window.size(); i++) {
        names.add("a" + ((from + i) % adapters));
      }
      done += encoder.encode(window, names).size();
    }
    return done;
  }

  /** The sample corpus's texts, repeated to {@code rows}, shuffled so that lengths mix as in a real table. */
  private static List<String> texts(int rows) throws IOException {
    List<String> corpus = new ArrayList<>();
    ObjectMapper json = new ObjectMapper();
    try (BufferedReader in = new BufferedReader(new InputStreamReader(
        MultiAdapterBench.class.getResourceAsStream("/samples/corpus.jsonl"), StandardCharsets.UTF_8))) {
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        JsonNode node = json.readTree(line);
        corpus.add(node.get("text").asText());
      }
    }
    List<String> out = new ArrayList<>(rows);
    for (int i = 0; out.size() < rows; i++) {
      out.add(corpus.get(i % corpus.size()));
    }
    Collections.shuffle(out, new java.util.Random(3));
    return out;
  }

  private static long peakRssKb() throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("VmHWM:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    }
    return -1;
  }
}

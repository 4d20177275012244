package dev.peftembed.bench;

import dev.peftembed.embed.EncoderOptions;
import dev.peftembed.text.TextTokenizer;
import java.util.ArrayList;
import java.util.List;

/**
 * Opens the in-process systems by letter and owns what they share (one ORT session and one tokenizer for c and d),
 * so that every system is closed once, in reverse order of opening.
 */
final class SystemRegistry implements AutoCloseable {
  /** The systems that encode texts in-process (each in its own worker JVM), in table order. */
  static final List<String> IN_PROCESS = List.of("a", "b", "c", "d");

  /** Spark NLP's batch size, the one system c copies. */
  static final int INPUT_ORDER_BATCH = 32;

  private final BenchModel model;
  private final List<AutoCloseable> opened = new ArrayList<>();
  private OrtModel ort;
  private TextTokenizer tokenizer;

  /** @param model the imported default model, which fixes our tokenizer for c and d */
  SystemRegistry(BenchModel model) {
    this.model = model;
  }

  /** Loads system {@code id} (a, b, c or d). */
  EmbeddingSystem open(String id) {
    EmbeddingSystem system = switch (id) {
      case "a" -> OurEncoder.load(model.dir());
      case "b" -> new LangchainModel();
      case "c" -> new OrtBatched("c", "ORT, batches of " + INPUT_ORDER_BATCH + " in input order", ort(),
          tokenizer(), BatchPolicy.inputOrder(INPUT_ORDER_BATCH));
      case "d" -> {
        EncoderOptions o = EncoderOptions.defaults();
        yield new OrtBatched("d", "ORT, our token-budget batches", ort(), tokenizer(),
            BatchPolicy.tokenBudget(o.batchSize(), o.maxBatchTokens()));
      }
      default -> throw new IllegalArgumentException("no in-process system \"" + id + "\" (known: " + IN_PROCESS
          + ")");
    };
    opened.add(system);
    return system;
  }

  private OrtModel ort() {
    if (ort == null) {
      ort = OrtModel.load();
      opened.add(ort);
    }
    return ort;
  }

  /** Our tokenizer with our limits, so that c and d read exactly the tokens a reads. */
  private TextTokenizer tokenizer() {
    if (tokenizer == null) {
      tokenizer = model.tokenizer();
      opened.add(tokenizer);
    }
    return tokenizer;
  }

  @Override
  public void close() {
    RuntimeException first = null;
    for (int i = opened.size() - 1; i >= 0; i--) {
      try {
        opened.get(i).close();
      } catch (Exception e) {
        if (first == null) {
          first = new IllegalStateException("closing a benchmark system failed: " + e.getMessage(), e);
        }
      }
    }
    opened.clear();
    if (first != null) {
      throw first;
    }
  }
}

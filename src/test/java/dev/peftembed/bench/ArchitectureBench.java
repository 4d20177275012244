package dev.peftembed.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.peftembed.embed.EncoderOptions;
import dev.peftembed.embed.SentenceEncoder;
import dev.peftembed.model.BertConfig;
import dev.peftembed.model.BertWeightLayout;
import dev.peftembed.model.SafetensorsWriter;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * {@code scripts/bench --architectures}: our encoder's throughput on BERT, XLM-RoBERTa, DistilBERT and MPNet at base
 * size (hidden 768, 12 layers, 12 heads, intermediate 3072; DistilBERT also at its real 6 layers), with seeded random
 * weights since real ones cannot be fetched here. Every model reads the default model's WordPiece tokenizer, so the
 * texts are the same tokens for all and only the network differs: what RoBERTa's positions, DistilBERT's module
 * layout and MPNet's relative attention bias cost over BERT.
 */
final class ArchitectureBench {
  private static final int HIDDEN = 768;
  private static final int LAYERS = 12;
  private static final int HEADS = 12;
  private static final int INTERMEDIATE = 3072;
  private static final int MAX_SEQ_LENGTH = 256;

  private final ObjectMapper json = new ObjectMapper();
  private final BenchModel tokenizerSource;
  private final Path work;

  ArchitectureBench(BenchModel tokenizerSource, Path work) {
    this.tokenizerSource = tokenizerSource;
    this.work = work;
  }

  /** One architecture's figures: medians over the rounds, and of its per-round time over BERT's. */
  record Row(String name, int layers, double textsPerSecond, double gflopsPerSecond, double timeOverBert) {}

  private record Model(String name, int layers) {}

  private static final List<Model> MODELS = List.of(new Model("bert", LAYERS), new Model("xlm-roberta", LAYERS),
      new Model("distilbert", LAYERS), new Model("distilbert", 6), new Model("mpnet", LAYERS));

  /**
   * Builds every model, then times them in interleaved rounds, each round starting at the next model, so that load
   * from other processes on a shared machine falls on all of them alike; prints a table with the matmul peak
   * fraction and deletes the models.
   */
  List<Row> run(CorpusKind kind, int texts, int reps, long seed, PrintStream out) throws IOException {
    Corpus corpus = tokenizerSource.generator(seed).corpus(kind, texts);
    double peak = matmulPeak();
    List<SentenceEncoder> encoders = new ArrayList<>();
    double[][] seconds = new double[MODELS.size()][reps];
    try {
      for (Model m : MODELS) {
        Path dir = work.resolve(m.name() + "-" + m.layers());
        write(dir, m.name(), m.layers());
        encoders.add(SentenceEncoder.load(dir, null, EncoderOptions.defaults().withDevice("cpu", "float32")));
        encoders.get(encoders.size() - 1).encode(corpus.texts());
      }
      for (int round = 0; round < reps; round++) {
        for (int k = 0; k < MODELS.size(); k++) {
          int i = (round + k) % MODELS.size();
          long start = System.nanoTime();
          encoders.get(i).encode(corpus.texts());
          seconds[i][round] = (System.nanoTime() - start) / 1e9;
        }
      }
    } finally {
      encoders.forEach(SentenceEncoder::close);
      deleteTree(work);
    }
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < MODELS.size(); i++) {
      double[] ratios = new double[reps];
      for (int r = 0; r < reps; r++) {
        ratios[r] = seconds[i][r] / seconds[0][r];
      }
      double median = median(seconds[i]);
      double flops = new ModelFlops(HIDDEN, INTERMEDIATE, MODELS.get(i).layers()).total(corpus.tokenLengths());
      rows.add(new Row(MODELS.get(i).name(), MODELS.get(i).layers(), corpus.size() / median, flops / median / 1e9,
          median(ratios)));
    }
    out.printf("%d %s texts (%d tokens), %d interleaved rounds; fp32 matmul peak %.1f GFLOP/s%n", corpus.size(),
        kind, corpus.totalTokens(), reps, peak);
    out.printf("%-12s %6s %10s %14s %9s %8s%n", "model", "layers", "texts/s", "time vs BERT", "GFLOP/s", "of peak");
    for (Row r : rows) {
      out.printf("%-12s %6d %10.2f %14.3f %9.1f %7.1f%%%n", r.name(), r.layers(), r.textsPerSecond(),
          r.timeOverBert(), r.gflopsPerSecond(), 100 * r.gflopsPerSecond() / peak);
    }
    return rows;
  }

  private static double matmulPeak() {
    try (MatmulPeak matmul = new MatmulPeak()) {
      matmul.runOnce();
      double best = Double.MAX_VALUE;
      for (int i = 0; i < 3; i++) {
        best = Math.min(best, matmul.runOnce());
      }
      return MatmulPeak.flopsPerRun() / best / 1e9;
    }
  }

  private static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    return sorted[sorted.length / 2];
  }

  /** A sentence-transformers directory of the architecture, every tensor of its layout seeded at random. */
  private void write(Path dir, String modelType, int layers) throws IOException {
    Files.createDirectories(dir.resolve("1_Pooling"));
    Path defaultDir = tokenizerSource.dir();
    Files.copy(defaultDir.resolve("tokenizer.json"), dir.resolve("tokenizer.json"));
    int vocab = tokenizerSource.plan().model().bert().vocabSize();
    ObjectNode config = json.createObjectNode().put("model_type", modelType).put("vocab_size", vocab)
        .put("hidden_act", "gelu").put("activation", "gelu");
    if (modelType.equals("distilbert")) {
      config.put("dim", HIDDEN).put("n_layers", layers).put("n_heads", HEADS).put("hidden_dim", INTERMEDIATE)
          .put("max_position_embeddings", 512);
    } else {
      // MPNet's table, like RoBERTa's, has two rows before the first token's; it has no token types at all
      boolean roberta = modelType.equals("xlm-roberta") || modelType.equals("mpnet");
      config.put("hidden_size", HIDDEN).put("num_hidden_layers", layers).put("num_attention_heads", HEADS)
          .put("intermediate_size", INTERMEDIATE).put("max_position_embeddings", roberta ? 514 : 512)
          .put("type_vocab_size", roberta ? 1 : 2).put("pad_token_id", roberta ? 1 : 0);
    }
    Files.writeString(dir.resolve("config.json"), config.toString());
    Files.writeString(dir.resolve("modules.json"), "[{\"idx\":0,\"name\":\"0\",\"path\":\"\",\"type\":"
        + "\"sentence_transformers.models.Transformer\"},{\"idx\":1,\"name\":\"1\",\"path\":\"1_Pooling\",\"type\":"
        + "\"sentence_transformers.models.Pooling\"}]");
    Files.writeString(dir.resolve("sentence_bert_config.json"), "{\"max_seq_length\":" + MAX_SEQ_LENGTH + "}");
    Files.writeString(dir.resolve("1_Pooling/config.json"), "{\"word_embedding_dimension\":" + HIDDEN
        + ",\"pooling_mode_mean_tokens\":true}");
    BertConfig parsed = BertConfig.read(dir.resolve("config.json"));
    SplittableRandom random = new SplittableRandom(7);
    TreeMap<String, SafetensorsWriter.Entry> tensors = new TreeMap<>();
    BertWeightLayout.forEach(parsed, (name, shape) -> {
      float[] values = new float[(int) Arrays.stream(shape).reduce(1, (a, b) -> a * b)];
      boolean normWeight = name.endsWith(".weight") && shape.length == 1;
      for (int i = 0; i < values.length; i++) {
        values[i] = normWeight ? 1f : shape.length == 1 ? 0f : (float) (random.nextGaussian() * 0.02);
      }
      tensors.put(name, new SafetensorsWriter.Entry(shape, values));
    });
    SafetensorsWriter.write(dir.resolve("model.safetensors"), tensors);
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (var paths = Files.walk(dir)) {
      for (Path p : paths.sorted((a, b) -> b.getNameCount() - a.getNameCount()).toList()) {
        Files.delete(p);
      }
    }
  }
}

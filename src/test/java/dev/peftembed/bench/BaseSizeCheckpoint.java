package dev.peftembed.bench;

import dev.peftembed.model.SafetensorsWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * A base-size checkpoint (hidden 768, 12 layers, 12 heads, intermediate 3072) of one architecture with random
 * weights, in the exact Hugging Face layout: real weights cannot be fetched here, and speed does not depend on the
 * values. Both architectures use the tiny MPNet fixture's tokenizer.json, so every text has the same token count in
 * each. Written once under {@code target/bench-models}.
 */
enum BaseSizeCheckpoint {
  /** BERT: positions 0..N−1, two token types. */
  BERT("bert", 512),
  /** MPNet: positions from 2, no token types, the relative attention bias. */
  MPNET("mpnet", 514);

  static final int HIDDEN = 768;
  static final int LAYERS = 12;
  static final int HEADS = 12;
  static final int INTERMEDIATE = 3072;
  private static final int VOCAB = 377;
  private static final String TOKENIZER = "/fixtures/tiny-mpnet/st/tokenizer.json";

  private final String modelType;
  private final int positions;

  BaseSizeCheckpoint(String modelType, int positions) {
    this.modelType = modelType;
    this.positions = positions;
  }

  /** @return the model directory, written on first use */
  Path resolve() {
    Path dir = Path.of("target", "bench-models", modelType + "-base-random");
    if (Files.isRegularFile(dir.resolve("model.safetensors"))) {
      return dir;
    }
    try {
      Files.createDirectories(dir.resolve("1_Pooling"));
      Files.createDirectories(dir.resolve("2_Normalize"));
      try (InputStream tokenizer = BaseSizeCheckpoint.class.getResourceAsStream(TOKENIZER)) {
        Files.copy(tokenizer, dir.resolve("tokenizer.json"), StandardCopyOption.REPLACE_EXISTING);
      }
      Files.writeString(dir.resolve("config.json"), "{\"model_type\": \"" + modelType + "\", \"hidden_size\": "
          + HIDDEN + ", \"num_hidden_layers\": " + LAYERS + ", \"num_attention_heads\": " + HEADS
          + ", \"intermediate_size\": " + INTERMEDIATE + ", \"max_position_embeddings\": " + positions
          + ", \"vocab_size\": " + VOCAB + ", \"layer_norm_eps\": 1e-5, \"hidden_act\": \"gelu\"}\n");
      Files.writeString(dir.resolve("modules.json"), "[{\"idx\": 0, \"name\": \"0\", \"path\": \"\", \"type\": "
          + "\"sentence_transformers.models.Transformer\"}, {\"idx\": 1, \"name\": \"1\", \"path\": \"1_Pooling\", "
          + "\"type\": \"sentence_transformers.models.Pooling\"}, {\"idx\": 2, \"name\": \"2\", \"path\": "
          + "\"2_Normalize\", \"type\": \"sentence_transformers.models.Normalize\"}]\n");
      Files.writeString(dir.resolve("1_Pooling").resolve("config.json"), "{\"word_embedding_dimension\": " + HIDDEN
          + ", \"pooling_mode_mean_tokens\": true}\n");
      Files.writeString(dir.resolve("sentence_bert_config.json"), "{\"max_seq_length\": 512}\n");
      SafetensorsWriter.write(dir.resolve("model.safetensors"), tensors());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the base-size " + modelType + " under " + dir, e);
    }
    return dir;
  }

  private TreeMap<String, SafetensorsWriter.Entry> tensors() {
    SplittableRandom rng = new SplittableRandom(modelType.hashCode());
    TreeMap<String, SafetensorsWriter.Entry> t = new TreeMap<>();
    put(t, rng, "embeddings.word_embeddings.weight", VOCAB, HIDDEN);
    put(t, rng, "embeddings.position_embeddings.weight", positions, HIDDEN);
    norm(t, "embeddings.LayerNorm");
    if (this == BERT) {
      put(t, rng, "embeddings.token_type_embeddings.weight", 2, HIDDEN);
    } else {
      put(t, rng, "encoder.relative_attention_bias.weight", 32, HEADS);
    }
    for (int l = 0; l < LAYERS; l++) {
      String p = "encoder.layer." + l + ".";
      String[] projections = this == BERT
          ? new String[] {"attention.self.query", "attention.self.key", "attention.self.value",
              "attention.output.dense"}
          : new String[] {"attention.attn.q", "attention.attn.k", "attention.attn.v", "attention.attn.o"};
      for (String proj : projections) {
        linear(t, rng, p + proj, HIDDEN, HIDDEN);
      }
      norm(t, p + (this == BERT ? "attention.output.LayerNorm" : "attention.LayerNorm"));
      linear(t, rng, p + "intermediate.dense", HIDDEN, INTERMEDIATE);
      linear(t, rng, p + "output.dense", INTERMEDIATE, HIDDEN);
      norm(t, p + "output.LayerNorm");
    }
    return t;
  }

  private static void linear(TreeMap<String, SafetensorsWriter.Entry> t, SplittableRandom rng, String name, int in,
      int out) {
    put(t, rng, name + ".weight", out, in);
    put(t, rng, name + ".bias", out);
  }

  private static void norm(TreeMap<String, SafetensorsWriter.Entry> t, String name) {
    float[] ones = new float[HIDDEN];
    java.util.Arrays.fill(ones, 1f);
    t.put(name + ".weight", new SafetensorsWriter.Entry(new long[] {HIDDEN}, ones));
    t.put(name + ".bias", new SafetensorsWriter.Entry(new long[] {HIDDEN}, new float[HIDDEN]));
  }

  /** Uniform in ±0.05: no zeros or denormals that could take a fast path. */
  private static void put(TreeMap<String, SafetensorsWriter.Entry> t, SplittableRandom rng, String name,
      long... shape) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    float[] v = new float[(int) n];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) (0.01 + rng.nextDouble() * 0.04) * (rng.nextBoolean() ? 1 : -1);
    }
    t.put(name, new SafetensorsWriter.Entry(shape, v));
  }
}

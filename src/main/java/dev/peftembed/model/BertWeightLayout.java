package dev.peftembed.model;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The tensors our BERT encoder reads from a checkpoint, with the shapes {@code config.json} implies, so that a
 * driver can check a checkpoint's headers against its config before any executor loads the weights. The names
 * mirror the module tree of {@code dev.peftembed.encoder} ({@code BertEmbeddings}, {@code BertLayer} and below);
 * the encoder checks every shape again as it reads.
 */
public final class BertWeightLayout {
  private BertWeightLayout() {}

  /** @return every tensor name the encoder reads, in checkpoint order, with its expected shape */
  public static Map<String, long[]> expected(BertConfig c) {
    long h = c.hiddenSize();
    long i = c.intermediateSize();
    Map<String, long[]> shapes = new LinkedHashMap<>();
    shapes.put("embeddings.word_embeddings.weight", new long[] {c.vocabSize(), h});
    shapes.put("embeddings.position_embeddings.weight", new long[] {c.maxPositions(), h});
    shapes.put("embeddings.token_type_embeddings.weight", new long[] {c.typeVocabSize(), h});
    layerNorm(shapes, "embeddings.LayerNorm", h);
    for (int layer = 0; layer < c.numLayers(); layer++) {
      String p = "encoder.layer." + layer + ".";
      for (String proj : new String[] {"query", "key", "value"}) {
        linear(shapes, p + "attention.self." + proj, h, h);
      }
      linear(shapes, p + "attention.output.dense", h, h);
      layerNorm(shapes, p + "attention.output.LayerNorm", h);
      linear(shapes, p + "intermediate.dense", h, i);
      linear(shapes, p + "output.dense", i, h);
      layerNorm(shapes, p + "output.LayerNorm", h);
    }
    return shapes;
  }

  /**
   * Checks from the headers alone that every tensor the encoder reads is there, with the shape config.json implies
   * and a float dtype; reads no weights.
   *
   * @throws ModelFormatException naming the file, the tensor and both shapes
   */
  public static void check(Checkpoint checkpoint, BertConfig config) {
    expected(config).forEach(checkpoint::check);
  }

  private static void linear(Map<String, long[]> shapes, String name, long in, long out) {
    shapes.put(name + ".weight", new long[] {out, in});
    shapes.put(name + ".bias", new long[] {out});
  }

  private static void layerNorm(Map<String, long[]> shapes, String name, long width) {
    shapes.put(name + ".weight", new long[] {width});
    shapes.put(name + ".bias", new long[] {width});
  }
}

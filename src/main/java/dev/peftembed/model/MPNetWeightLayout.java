package dev.peftembed.model;

import java.util.function.BiConsumer;

/**
 * The tensors our MPNet encoder reads from a checkpoint, with the shapes {@code config.json} implies, named as
 * transformers' MPNetModel saves them, so that a driver can check a checkpoint's headers before any executor loads
 * the weights. The names mirror the module tree of {@code dev.peftembed.encoder.mpnet}; the encoder checks every
 * shape again as it reads.
 */
public final class MPNetWeightLayout {
  /** Rows of {@code encoder.relative_attention_bias}: the buckets transformers computes with. */
  public static final int RELATIVE_BUCKETS = 32;

  private MPNetWeightLayout() {}

  /**
   * Checks from the headers alone that every tensor the encoder reads is there, with the shape config.json implies
   * and a float dtype; reads no weights.
   *
   * @throws ModelFormatException naming the file, the tensor and both shapes
   */
  public static void check(Checkpoint checkpoint, BertConfig config) {
    forEach(config, checkpoint::check);
  }

  /** Names every tensor the encoder reads, in checkpoint order, with its expected shape. */
  public static void forEach(BertConfig c, BiConsumer<String, long[]> visit) {
    long h = c.hiddenSize();
    long i = c.intermediateSize();
    visit.accept("embeddings.word_embeddings.weight", new long[] {c.vocabSize(), h});
    visit.accept("embeddings.position_embeddings.weight", new long[] {c.maxPositions(), h});
    layerNorm(visit, "embeddings.LayerNorm", h);
    visit.accept("encoder.relative_attention_bias.weight", new long[] {RELATIVE_BUCKETS, c.numHeads()});
    for (int layer = 0; layer < c.numLayers(); layer++) {
      String p = "encoder.layer." + layer + ".";
      for (String proj : new String[] {"q", "k", "v", "o"}) {
        linear(visit, p + "attention.attn." + proj, h, h);
      }
      layerNorm(visit, p + "attention.LayerNorm", h);
      linear(visit, p + "intermediate.dense", h, i);
      linear(visit, p + "output.dense", i, h);
      layerNorm(visit, p + "output.LayerNorm", h);
    }
  }

  private static void linear(BiConsumer<String, long[]> visit, String name, long in, long out) {
    visit.accept(name + ".weight", new long[] {out, in});
    visit.accept(name + ".bias", new long[] {out});
  }

  private static void layerNorm(BiConsumer<String, long[]> visit, String name, long width) {
    visit.accept(name + ".weight", new long[] {width});
    visit.accept(name + ".bias", new long[] {width});
  }
}

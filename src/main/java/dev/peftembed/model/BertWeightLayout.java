package dev.peftembed.model;

import java.util.function.BiConsumer;

/**
 * The tensors our encoder reads from a checkpoint of each {@link Architecture}, with the shapes {@code config.json}
 * implies, so that a driver can check a checkpoint's headers against its config before any executor loads the
 * weights. The names mirror the module trees of {@code dev.peftembed.encoder.bert} ({@code BertEmbeddings},
 * {@code BertLayer}, DistilBERT's {@code TransformerBlock} and below); the encoder checks every shape again as it
 * reads.
 */
public final class BertWeightLayout {
  private BertWeightLayout() {}

  /**
   * Checks from the headers alone that every tensor the encoder reads is there, with the shape config.json implies
   * and a float dtype; reads no weights. Tensors are checked as they are named, so a config claiming millions of
   * layers fails at the first missing one instead of listing them all.
   *
   * @throws ModelFormatException naming the file, the tensor and both shapes
   */
  public static void check(Checkpoint checkpoint, BertConfig config) {
    forEach(config, checkpoint::check);
  }

  /**
   * Names every tensor the encoder reads, in checkpoint order, with its expected shape; for checks against weights
   * that are not in a {@link Checkpoint} yet, such as those of an ONNX import.
   */
  public static void forEach(BertConfig c, BiConsumer<String, long[]> visit) {
    long h = c.hiddenSize();
    visit.accept("embeddings.word_embeddings.weight", new long[] {c.vocabSize(), h});
    visit.accept("embeddings.position_embeddings.weight", new long[] {c.maxPositions(), h});
    if (c.architecture().hasTokenTypes()) {
      visit.accept("embeddings.token_type_embeddings.weight", new long[] {c.typeVocabSize(), h});
    }
    layerNorm(visit, "embeddings.LayerNorm", h);
    switch (c.architecture()) {
      case BERT, ROBERTA, XLM_ROBERTA -> bertLayers(c, visit);
      case DISTILBERT -> distilBertLayers(c, visit);
      case MPNET -> mpnetLayers(c, visit);
    }
  }

  /**
   * modeling_mpnet.py: {@code MPNetEncoder}'s relative_attention_bias, then per {@code MPNetLayer}
   * attention.attn.q/k/v/o, attention.LayerNorm and BERT's feed-forward names.
   */
  private static void mpnetLayers(BertConfig c, BiConsumer<String, long[]> visit) {
    long h = c.hiddenSize();
    long i = c.intermediateSize();
    visit.accept("encoder.relative_attention_bias.weight",
        new long[] {BertConfig.MPNET_RELATIVE_BUCKETS, c.numHeads()});
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

  private static void bertLayers(BertConfig c, BiConsumer<String, long[]> visit) {
    long h = c.hiddenSize();
    long i = c.intermediateSize();
    for (int layer = 0; layer < c.numLayers(); layer++) {
      String p = "encoder.layer." + layer + ".";
      for (String proj : new String[] {"query", "key", "value"}) {
        linear(visit, p + "attention.self." + proj, h, h);
      }
      linear(visit, p + "attention.output.dense", h, h);
      layerNorm(visit, p + "attention.output.LayerNorm", h);
      linear(visit, p + "intermediate.dense", h, i);
      linear(visit, p + "output.dense", i, h);
      layerNorm(visit, p + "output.LayerNorm", h);
    }
  }

  /** modeling_distilbert.py: {@code TransformerBlock}'s attention, sa_layer_norm, ffn and output_layer_norm. */
  private static void distilBertLayers(BertConfig c, BiConsumer<String, long[]> visit) {
    long h = c.hiddenSize();
    long i = c.intermediateSize();
    for (int layer = 0; layer < c.numLayers(); layer++) {
      String p = "transformer.layer." + layer + ".";
      for (String proj : new String[] {"q_lin", "k_lin", "v_lin", "out_lin"}) {
        linear(visit, p + "attention." + proj, h, h);
      }
      layerNorm(visit, p + "sa_layer_norm", h);
      linear(visit, p + "ffn.lin1", h, i);
      linear(visit, p + "ffn.lin2", i, h);
      layerNorm(visit, p + "output_layer_norm", h);
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

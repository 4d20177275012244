package dev.peftembed.bench;

import dev.peftembed.embed.Embedding;
import dev.peftembed.embed.EncoderOptions;
import dev.peftembed.embed.SentenceEncoder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** System a: our {@link SentenceEncoder} in-process, with its default options and its own batching. */
final class OurEncoder implements EmbeddingSystem {
  private final SentenceEncoder encoder;
  private final BatchPolicy batching;

  private OurEncoder(SentenceEncoder encoder, EncoderOptions options) {
    this.encoder = encoder;
    this.batching = BatchPolicy.tokenBudget(options.batchSize(), options.maxBatchTokens());
  }

  /** Loads the model directory with the default options, as {@code peft-embed encode} would. */
  static OurEncoder load(Path modelDir) {
    EncoderOptions options = EncoderOptions.defaults();
    return new OurEncoder(SentenceEncoder.load(modelDir, null, options), options);
  }

  @Override
  public String id() {
    return "a";
  }

  @Override
  public String description() {
    return "ours: libtorch eager, token-budget batches";
  }

  @Override
  public List<float[]> encode(List<String> texts) {
    List<float[]> out = new ArrayList<>(texts.size());
    for (Embedding e : encoder.encode(texts)) {
      if (!e.succeeded()) {
        throw new IllegalStateException("system a failed on a benchmark text: " + e.error());
      }
      out.add(e.vector());
    }
    return out;
  }

  /** The same batches the encoder cuts: it plans with the same batcher over the same lengths. */
  @Override
  public TokenCount tokens(Corpus corpus) {
    return batching.count(corpus.tokenLengths());
  }

  @Override
  public void close() {
    encoder.close();
  }
}

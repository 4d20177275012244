package dev.peftembed.bench;

import dev.peftembed.embed.EncoderOptions;
import dev.peftembed.embed.EncoderPlan;
import dev.peftembed.onnx.DefaultModel;
import dev.peftembed.text.TextTokenizer;
import java.nio.file.Path;

/**
 * The model every system runs: all-MiniLM-L6-v2, imported from its Maven artifact into our directory format, plus
 * the facts the benchmark derives from it (what a token is, what a forward pass costs).
 *
 * @param dir the imported model directory
 * @param plan its configs, validated with the default options
 */
record BenchModel(Path dir, EncoderPlan plan) {

  /** The default model, imported on first use. */
  static BenchModel resolveDefault() {
    Path dir = DefaultModel.resolve();
    return new BenchModel(dir, EncoderPlan.resolve(dir, null, EncoderOptions.defaults()));
  }

  /** @return a corpus generator whose token counts are this model's */
  CorpusGenerator generator(long seed) {
    try (TextTokenizer tokenizer = tokenizer()) {
      return CorpusGenerator.fromSamples(tokenizer, seed);
    }
  }

  /** @return the model's tokenizer with our limits; the caller closes it */
  TextTokenizer tokenizer() {
    return TextTokenizer.load(plan.model().tokenizerFile(), plan.maxRealTokens(), plan.model().doLowerCase());
  }

  /** @return the FLOP counter of this architecture */
  ModelFlops flops() {
    return ModelFlops.of(plan.model().bert());
  }
}

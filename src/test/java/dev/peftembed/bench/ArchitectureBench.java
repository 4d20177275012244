package dev.peftembed.bench;

import dev.peftembed.embed.EncoderOptions;
import dev.peftembed.embed.EncoderPlan;
import dev.peftembed.embed.SentenceEncoder;
import dev.peftembed.text.TextTokenizer;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code scripts/bench --architectures}: in-process texts/s of base-size BERT and MPNet with random weights on the
 * same corpora and tokenizer, rounds interleaved so that a disturbance of the shared machine hits both, and each
 * figure's fraction of the machine's fp32 matmul peak. What it answers: what MPNet's relative attention bias costs
 * over BERT at the same size.
 */
final class ArchitectureBench {
  private ArchitectureBench() {}

  /**
   * @param corpora corpora and the texts of each, in run order
   * @param repetitions timed rounds per model after one warm-up; figures are medians
   */
  static void run(Map<CorpusKind, Integer> corpora, int repetitions, long seed, PrintStream out) {
    Path bert = BaseSizeCheckpoint.BERT.resolve();
    Path mpnet = BaseSizeCheckpoint.MPNET.resolve();
    EncoderOptions options = EncoderOptions.defaults().withDevice("cpu", "float32");
    EncoderPlan plan = EncoderPlan.resolve(bert, null, options);
    CorpusGenerator generator;
    try (TextTokenizer tokenizer = TextTokenizer.load(plan.model().tokenizerFile(), plan.maxRealTokens(), false)) {
      generator = CorpusGenerator.fromSamples(tokenizer, seed);
    }
    ModelFlops flops = ModelFlops.of(plan.model().bert());
    double peak = matmulPeak(repetitions);
    out.printf(Locale.ROOT, "fp32 matmul peak: %.1f GFLOP/s%n", peak / 1e9);
    try (SentenceEncoder b = SentenceEncoder.load(bert, null, options);
        SentenceEncoder m = SentenceEncoder.load(mpnet, null, options)) {
      for (Map.Entry<CorpusKind, Integer> entry : corpora.entrySet()) {
        CorpusKind kind = entry.getKey();
        Corpus corpus = generator.corpus(kind, entry.getValue());
        double[] bertSeconds = new double[repetitions];
        double[] mpnetSeconds = new double[repetitions];
        double[] ratios = new double[repetitions];
        b.encode(corpus.texts());
        m.encode(corpus.texts());
        for (int r = 0; r < repetitions; r++) {
          // Alternating which goes first cancels any drift within a round; the ratio of a round's pair is immune to
          // the load other users put on a shared machine between rounds.
          if (r % 2 == 0) {
            bertSeconds[r] = time(b, corpus.texts());
            mpnetSeconds[r] = time(m, corpus.texts());
          } else {
            mpnetSeconds[r] = time(m, corpus.texts());
            bertSeconds[r] = time(b, corpus.texts());
          }
          ratios[r] = mpnetSeconds[r] / bertSeconds[r];
        }
        double bertMedian = new Timings(bertSeconds).median();
        double mpnetMedian = new Timings(mpnetSeconds).median();
        double work = flops.total(corpus.tokenLengths());
        out.printf(Locale.ROOT, "%s (%d texts, %d tokens): bert-base %.2f texts/s (%.0f%% of peak), mpnet-base "
            + "%.2f texts/s (%.0f%% of peak); mpnet/bert time, median of the rounds' pairs %.3f (range %.3f to "
            + "%.3f)%n", kind.label(), corpus.size(), corpus.totalTokens(), corpus.size() / bertMedian,
            100 * work / bertMedian / peak, corpus.size() / mpnetMedian, 100 * work / mpnetMedian / peak,
            new Timings(ratios).median(), Arrays.stream(ratios).min().orElse(0), Arrays.stream(ratios).max().orElse(0));
      }
    }
  }

  private static double time(SentenceEncoder encoder, List<String> texts) {
    long start = System.nanoTime();
    encoder.encode(new ArrayList<>(texts));
    return (System.nanoTime() - start) / 1e9;
  }

  /** @return FLOP/s of the median round */
  private static double matmulPeak(int repetitions) {
    try (MatmulPeak peak = new MatmulPeak()) {
      peak.runOnce();
      double[] seconds = new double[repetitions];
      for (int r = 0; r < repetitions; r++) {
        seconds[r] = peak.runOnce();
      }
      return MatmulPeak.flopsPerRun() / new Timings(seconds).median();
    }
  }
}

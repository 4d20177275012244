package dev.peftembed.cli;

import dev.peftembed.embed.DeviceChoice;
import dev.peftembed.embed.EncoderDefaults;
import dev.peftembed.embed.EncoderOptions;
import dev.peftembed.embed.Normalization;
import dev.peftembed.embed.Precision;
import dev.peftembed.pooling.VirtualTokenPolicy;
import picocli.CommandLine.Option;

/**
 * The encoder options of every command that encodes, {@code encode} and {@code embed} alike, with the defaults of
 * {@link EncoderDefaults}. Values stay strings until {@link #options()}, so that a bad one, typed or read from the
 * configuration file, fails as one line that lists the accepted values.
 */
final class EncodingFlags {
  @Option(names = "--virtual-tokens", paramLabel = "include|exclude", defaultValue = EncoderDefaults.VIRTUAL_TOKENS,
      description = "whether the adapter's virtual tokens take part in pooling: " + VirtualTokenPolicy.ALLOWED
          + " (default: ${DEFAULT-VALUE})")
  String virtualTokens;

  @Option(names = "--batch-size", defaultValue = EncoderDefaults.BATCH_SIZE,
      description = "most rows per forward pass (default: ${DEFAULT-VALUE})")
  int batchSize;

  @Option(names = "--max-batch-tokens", defaultValue = EncoderDefaults.MAX_BATCH_TOKENS,
      description = "most padded positions per forward pass (default: ${DEFAULT-VALUE})")
  int maxBatchTokens;

  @Option(names = "--max-seq-length", defaultValue = EncoderDefaults.MAX_SEQ_LENGTH,
      description = "real-token limit below the model's own; 0 for the model's (default: ${DEFAULT-VALUE})")
  int maxSeqLength;

  @Option(names = "--prompt", description = "literal text prompt prepended to every text; empty for none "
      + "(default: the model's default prompt, if any)")
  String prompt;

  @Option(names = "--prompt-name", description = "named prompt from config_sentence_transformers.json")
  String promptName;

  @Option(names = "--normalize", negatable = true,
      description = "force (or, negated, skip) L2 normalization; default: as the model's modules say")
  Boolean normalize;

  @Option(names = "--truncate-dim", defaultValue = EncoderDefaults.TRUNCATE_DIM,
      description = "keep the first N dimensions (Matryoshka); 0 for all (default: ${DEFAULT-VALUE})")
  int truncateDim;

  @Option(names = "--device", defaultValue = EncoderDefaults.DEVICE,
      description = DeviceChoice.ALLOWED + " (default: ${DEFAULT-VALUE})")
  String device;

  @Option(names = "--dtype", defaultValue = EncoderDefaults.DTYPE,
      description = Precision.ALLOWED + "; float16 on GPU only (default: ${DEFAULT-VALUE})")
  String dtype;

  /**
   * @return the options these flags describe
   * @throws IllegalArgumentException naming the option and its accepted values
   */
  EncoderOptions options() {
    return EncoderOptions.defaults()
        .withVirtualTokens(VirtualTokenPolicy.parse(virtualTokens))
        .withBatching(batchSize, maxBatchTokens)
        .withMaxSeqLength(EncoderOptions.noneIfZero(maxSeqLength))
        .withPrompt(prompt, promptName)
        .withOutput(Normalization.of(normalize), EncoderOptions.noneIfZero(truncateDim))
        .withDevice(DeviceChoice.parse(device), Precision.parse(dtype));
  }
}

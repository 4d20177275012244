package dev.peftembed.cli;

import dev.peftembed.embed.EncoderOptions;
import dev.peftembed.onnx.DefaultModel;
import dev.peftembed.pooling.VirtualTokenPolicy;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The model and encoding flags shared by every command that encodes. */
final class EncoderFlags {
  @Option(names = "--model", paramLabel = "DIR",
      description = "sentence-transformers model directory (default: all-MiniLM-L6-v2, imported on first use)")
  Path model;

  @Option(names = "--adapter", paramLabel = "DIR", description = "PEFT prompt-tuning or P-tuning adapter directory")
  Path adapter;

  @Option(names = "--virtual-tokens", paramLabel = "include|exclude", defaultValue = "include",
      description = "whether the adapter's virtual tokens take part in pooling (default: ${DEFAULT-VALUE})")
  String virtualTokens;

  @Option(names = "--batch-size", defaultValue = "64", description = "most rows per forward pass (default: "
      + "${DEFAULT-VALUE})")
  int batchSize;

  @Option(names = "--max-batch-tokens", defaultValue = "16384",
      description = "most padded positions per forward pass (default: ${DEFAULT-VALUE})")
  int maxBatchTokens;

  @Option(names = "--max-seq-length", description = "real-token limit below the model's own (default: the model's)")
  Integer maxSeqLength;

  @Option(names = "--prompt", description = "literal text prompt prepended to every text; empty for none "
      + "(default: the model's default prompt, if any)")
  String prompt;

  @Option(names = "--prompt-name", description = "named prompt from config_sentence_transformers.json")
  String promptName;

  @Option(names = "--normalize", negatable = true,
      description = "force (or, negated, skip) L2 normalization; default: as the model's modules say")
  Boolean normalize;

  @Option(names = "--truncate-dim", description = "keep the first N dimensions (Matryoshka; default: all)")
  Integer truncateDim;

  @Option(names = "--device", defaultValue = "auto", description = "auto, cpu, gpu or gpu:N (default: "
      + "${DEFAULT-VALUE})")
  String device;

  @Option(names = "--dtype", defaultValue = "float32", description = "float32, or float16 on GPU (default: "
      + "${DEFAULT-VALUE})")
  String dtype;

  /** @return the model directory, importing the default model on first use */
  Path modelDir() {
    return model != null ? model : DefaultModel.resolve();
  }

  EncoderOptions options() {
    return EncoderOptions.defaults()
        .withVirtualTokens(VirtualTokenPolicy.parse(virtualTokens))
        .withBatching(batchSize, maxBatchTokens)
        .withMaxSeqLength(maxSeqLength)
        .withPrompt(prompt, promptName)
        .withOutput(normalize, truncateDim)
        .withDevice(device, dtype);
  }
}

package dev.peftembed.cli;

import dev.peftembed.embed.EncoderOptions;
import dev.peftembed.onnx.DefaultModel;
import java.nio.file.Path;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** The local model, adapter and encoder options of the commands that encode without Spark. */
final class EncoderFlags {
  @Option(names = "--model", paramLabel = "DIR",
      description = "sentence-transformers model directory (default: all-MiniLM-L6-v2, imported on first use)")
  Path model;

  @Option(names = "--adapter", paramLabel = "DIR",
      description = "PEFT adapter directory: prompt tuning, P-tuning, prefix tuning or LoRA")
  Path adapter;

  @Mixin
  EncodingFlags encoding = new EncodingFlags();

  /** @return the model directory, importing the default model on first use */
  Path modelDir() {
    return model != null ? model : DefaultModel.resolve();
  }

  EncoderOptions options() {
    return encoding.options();
  }
}

package dev.peftembed.cli;

import dev.peftembed.embed.AdapterModelDirectory;
import dev.peftembed.embed.EncoderOptions;
import dev.peftembed.embed.NamedAdapters;
import dev.peftembed.onnx.DefaultModel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** The local model, adapter and encoder options of the commands that encode without Spark. */
final class EncoderFlags {
  @Option(names = "--model", paramLabel = "DIR",
      description = "sentence-transformers model directory (default: all-MiniLM-L6-v2, imported on first use)")
  Path model;

  @Option(names = "--adapter", paramLabel = "[NAME=]DIR",
      description = "PEFT adapter directory: prompt tuning, P-tuning, prefix tuning or LoRA; DIR alone applies to "
          + "every row, repeated NAME=DIR declare adapters that each row picks by name (none: the base model)")
  List<String> adapters = new ArrayList<>();

  @Option(names = "--base-model", paramLabel = "DIR", description = "the base model of a --model directory saved "
      + "with an adapter (adapter_config.json and adapter_model.safetensors in place of the weights); default: the "
      + "adapter's base_model_name_or_path when that is a local directory")
  Path baseModel;

  @Mixin
  EncodingFlags encoding = new EncodingFlags();

  /** @return the model directory (the base model of one saved with an adapter), importing the default on first use */
  Path modelDir() {
    return savedWithAdapter().model();
  }

  private AdapterModelDirectory savedWithAdapter() {
    return AdapterModelDirectory.resolve(model != null ? model : DefaultModel.resolve(), baseModel);
  }

  /**
   * @return the adapter applied to every row, or {@code null} when there is none or the adapters are named
   * @throws IllegalArgumentException for a bare DIR beside others
   */
  Path singleAdapter() {
    Path saved = savedWithAdapter().adapter();
    if (saved != null && !adapters.isEmpty()) {
      throw new IllegalArgumentException("--model " + model + " holds an adapter for every row already: give no "
          + "--adapter with it, or give its base model as --model and the adapters with --adapter");
    }
    return saved != null ? saved : singleAdapter(adapters);
  }

  /**
   * @return the named adapters' directories by name; empty for none or a bare DIR
   * @throws IllegalArgumentException for a spec that is not NAME=DIR among named ones, or a repeated name
   */
  Map<String, Path> namedAdapters() {
    if (singleAdapter() != null) {
      return Map.of();
    }
    Map<String, Path> out = new LinkedHashMap<>();
    NamedAdapters.parse(adapters).forEach((name, dir) -> out.put(name, Path.of(dir)));
    return out;
  }

  /** @see #singleAdapter() */
  static Path singleAdapter(List<String> specs) {
    if (specs.size() == 1 && !NamedAdapters.isNamed(specs.get(0))) {
      return Path.of(specs.get(0));
    }
    for (String spec : specs) {
      if (!NamedAdapters.isNamed(spec)) {
        throw new IllegalArgumentException("--adapter " + spec + ": a DIR without NAME= applies to every row, so it "
            + "must be the only --adapter; name each adapter (NAME=DIR) to let rows pick one");
      }
    }
    return null;
  }

  EncoderOptions options() {
    return encoding.options();
  }
}

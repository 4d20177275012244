package dev.peftembed.spark;

import dev.peftembed.embed.AdapterModelDirectory;
import dev.peftembed.embed.EncoderOptions;
import dev.peftembed.embed.EncoderPlan;
import dev.peftembed.embed.MultiAdapterPlan;
import dev.peftembed.embed.NamedAdapters;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.util.LongAccumulator;

/**
 * What the driver resolves before a transform, in the order a user fixes mistakes: the output columns, then the
 * options, then the model's and adapters' directories, read and cross-checked.
 *
 * @param layout the input and output columns
 * @param options the encoder options the params give
 * @param model where the model is, as the executors will find it
 * @param adapter where the adapter applied to every row is, or {@code null} for none
 * @param named where each named adapter is, by name; empty for none
 * @param plan the checked model, adapter and options; with named adapters, the base model's
 */
record ResolvedStage(OutputLayout layout, EncoderOptions options, ModelSource model, ModelSource adapter,
    LinkedHashMap<String, ModelSource> named, EncoderPlan plan) {

  /**
   * @param layout the stage's output layout on the input's schema, already checked
   * @param hadoopConf the configuration of the file systems the model and adapters live on
   * @throws IllegalArgumentException for a bad option
   * @throws dev.peftembed.model.ModelFormatException for a bad model or adapter directory
   */
  static ResolvedStage of(PeftEmbedderParams stage, OutputLayout layout, Configuration hadoopConf) {
    EncoderOptions options = stage.encoderOptions();
    ModelSource model = ModelSource.of(stage.getModelPath(), hadoopConf, "model directory");
    Map<String, String> specs = NamedAdapters.parse(List.of(stage.getAdapters()));
    if (!specs.isEmpty() && !stage.getAdapterPath().isEmpty()) {
      throw new IllegalArgumentException("adapterPath " + stage.getAdapterPath() + " applies to every row, so it "
          + "cannot be set with named adapters; name it in adapters too");
    }
    ModelSource adapter = stage.getAdapterPath().isEmpty() ? null
        : ModelSource.of(stage.getAdapterPath(), hadoopConf, "adapter directory");
    Path given = ModelLocator.localize(model);
    if (AdapterModelDirectory.holdsAdapter(given)) {
      if (adapter != null || !specs.isEmpty()) {
        throw new IllegalArgumentException("modelPath " + stage.getModelPath() + " holds an adapter for every row "
            + "already: set no adapterPath or adapters with it, or set its base model as modelPath");
      }
      // The directory is the adapter; its base model is the model, found as the command line finds it.
      ModelSource base = stage.getBaseModelPath().isEmpty() ? null
          : ModelSource.of(stage.getBaseModelPath(), hadoopConf, "base model directory");
      Path baseDir = AdapterModelDirectory.resolve(given, base == null ? null : ModelLocator.localize(base)).model();
      adapter = model;
      model = base != null ? base : ModelSource.of(baseDir.toString(), hadoopConf, "base model directory");
    }
    LinkedHashMap<String, ModelSource> named = new LinkedHashMap<>();
    specs.forEach((name, dir) -> named.put(name, ModelSource.of(dir, hadoopConf,
        "adapter directory of \"" + name + "\"")));
    Path modelDir = ModelLocator.localize(model);
    EncoderPlan plan = named.isEmpty()
        ? EncoderPlan.resolve(modelDir, adapter == null ? null : ModelLocator.localize(adapter), options)
        : MultiAdapterPlan.resolve(modelDir, localize(named), options).base();
    return new ResolvedStage(layout, options, model, adapter, named, plan);
  }

  /** @return each named adapter's local directory, copied from a remote one on first use */
  static Map<String, Path> localize(Map<String, ModelSource> named) {
    Map<String, Path> out = new LinkedHashMap<>();
    named.forEach((name, source) -> out.put(name, ModelLocator.localize(source)));
    return out;
  }

  /** @return what the transform embeds with, for its log line */
  String describe() {
    String adapters = adapter != null ? " + adapter " + plan.adapterDir()
        : named.isEmpty() ? "" : " + adapters " + named.keySet();
    return "with " + plan.model().path() + adapters + ": " + (plan.dimension() != null ? plan.dimension() : "(the graph's)")
        + " dimensions, up to " + plan.maxRealTokens() + " real tokens, device " + options.device();
  }

  /**
   * @param window the most rows encoded together
   * @param loads counts model loads on the executors
   * @return what each task runs over its partition
   */
  PartitionEmbedder embedder(int window, LongAccumulator loads) {
    return new PartitionEmbedder(model, adapter, named, options, layout, window, loads);
  }
}

package dev.peftembed.spark;

import dev.peftembed.embed.EncoderOptions;
import dev.peftembed.embed.EncoderPlan;
import org.apache.hadoop.conf.Configuration;

/**
 * What the driver resolves before a transform, in the order a user fixes mistakes: the output columns, then the
 * options, then the model's and adapter's directories, read and cross-checked.
 *
 * @param layout the input and output columns
 * @param options the encoder options the params give
 * @param model where the model is, as the executors will find it
 * @param adapter where the adapter is, or {@code null} for none
 * @param plan the checked model, adapter and options
 */
record ResolvedStage(OutputLayout layout, EncoderOptions options, ModelSource model, ModelSource adapter,
    EncoderPlan plan) {

  /**
   * @param layout the stage's output layout on the input's schema, already checked
   * @param hadoopConf the configuration of the file systems the model and adapter live on
   * @throws IllegalArgumentException for a bad option
   * @throws dev.peftembed.model.ModelFormatException for a bad model or adapter directory
   */
  static ResolvedStage of(PeftEmbedderParams stage, OutputLayout layout, Configuration hadoopConf) {
    EncoderOptions options = stage.encoderOptions();
    ModelSource model = ModelSource.of(stage.getModelPath(), hadoopConf, "model directory");
    ModelSource adapter = stage.getAdapterPath().isEmpty() ? null
        : ModelSource.of(stage.getAdapterPath(), hadoopConf, "adapter directory");
    EncoderPlan plan = EncoderPlan.resolve(ModelLocator.localize(model),
        adapter == null ? null : ModelLocator.localize(adapter), options);
    return new ResolvedStage(layout, options, model, adapter, plan);
  }
}

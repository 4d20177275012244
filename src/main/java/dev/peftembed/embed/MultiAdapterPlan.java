package dev.peftembed.embed;

import dev.peftembed.model.Architecture;
import dev.peftembed.peft.LoraAdapter;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A many-adapter job checked from configs alone: the base model's plan, and one plan per named adapter over the same
 * model and options. Every adapter is validated here, on a Spark driver before any task runs, each failure one line
 * naming the adapter's file.
 *
 * @param base the plan of rows that name no adapter
 * @param adapters the plan of each named adapter, in the order declared
 */
public record MultiAdapterPlan(EncoderPlan base, Map<String, EncoderPlan> adapters) {

  /**
   * @param adapterDirs adapter directories by name
   * @throws dev.peftembed.model.ModelFormatException for a bad model or adapter file
   * @throws IllegalArgumentException for options the model cannot honour, or a TorchScript model
   */
  public static MultiAdapterPlan resolve(Path modelDir, Map<String, Path> adapterDirs, EncoderOptions options) {
    EncoderPlan base = EncoderPlan.resolve(modelDir, null, options);
    if (base.model().isTorchScript() && !adapterDirs.isEmpty()) {
      throw new IllegalArgumentException(modelDir + ": named adapters need a safetensors model; the TorchScript "
          + "graph " + base.model().torchScript().modelFile() + " holds its adapter inside it");
    }
    Map<String, EncoderPlan> plans = new LinkedHashMap<>();
    adapterDirs.forEach((name, dir) -> plans.put(name, sharing(EncoderPlan.resolve(modelDir, dir, options), name)));
    return new MultiAdapterPlan(base, Collections.unmodifiableMap(plans));
  }

  /**
   * Named adapters share one copy of the base weights, which only the BERT-family module classes take beside them:
   * MPNet runs its own, and DistilBERT's unmerged LoRA terms would need its own module names.
   */
  private static EncoderPlan sharing(EncoderPlan plan, String name) {
    if (plan.model().isTorchScript()) {
      return plan;
    }
    Architecture architecture = plan.model().bert().architecture();
    boolean lora = LoraAdapter.isLora(plan.adapter());
    if (architecture == Architecture.MPNET || (architecture == Architecture.DISTILBERT && lora)) {
      throw new IllegalArgumentException("adapter \"" + name + "\" (" + plan.adapterDir() + "): named adapters "
          + "over model_type " + architecture.modelType() + " are not supported" + (lora ? " for LoRA" : "")
          + "; run this adapter alone with a bare --adapter DIR");
    }
    return plan;
  }
}

package dev.peftembed.embed;

import dev.peftembed.model.BertWeightLayout;
import dev.peftembed.model.Checkpoint;
import dev.peftembed.model.DenseConfig;
import dev.peftembed.model.ModelDirectory;
import dev.peftembed.model.OutputModule;
import dev.peftembed.model.TorchScriptConfig;
import dev.peftembed.peft.AdapterConfig;
import dev.peftembed.peft.Adapters;
import java.nio.file.Path;

/**
 * Everything that is known about an encoding job from configs alone: model and adapter configs validated against
 * each other and against the options. A Spark driver builds one before any task runs, so a bad path or an
 * incompatible adapter fails there, in one line, instead of in every task.
 *
 * @param model the model directory's configs
 * @param adapterDir the adapter directory, or {@code null}
 * @param adapter the adapter's config, or {@code null}
 * @param options how to encode
 * @param maxRealTokens the real-token limit: min(max_seq_length, max_position_embeddings − M, option), where a
 *     TorchScript directory subtracts M only when it declares M and caps by positions only when config.json says
 * @param prompt the text prompt prepended to every text, or {@code null}
 * @param dimension the width of the vectors produced; {@code null} when only running the model tells (a TorchScript directory
 *     with neither modules.json nor config.json), then {@link SentenceEncoder#dimension()} knows it once loaded
 */
public record EncoderPlan(
    ModelDirectory model,
    Path adapterDir,
    AdapterConfig adapter,
    EncoderOptions options,
    int maxRealTokens,
    String prompt,
    Integer dimension) {

  /**
   * Reads and cross-checks the configs of a model and an optional adapter, and the safetensors headers against
   * them (or the TorchScript archive's structure); reads no weights.
   *
   * @throws dev.peftembed.model.ModelFormatException for a bad model or adapter file
   * @throws IllegalArgumentException for options the model cannot honour
   */
  public static EncoderPlan resolve(Path modelDir, Path adapterDir, EncoderOptions options) {
    ModelDirectory model = ModelDirectory.read(modelDir);
    if (model.isTorchScript()) {
      checkTorchScript(model, adapterDir, options);
    } else {
      checkWeightHeaders(model);
    }
    AdapterConfig adapter = adapterDir == null ? null
        : Adapters.validate(adapterDir, model.bert(), modelDir);
    int maxReal = realTokenLimit(model, options,
        adapter == null ? declaredVirtualTokens(model) : adapter.numVirtualTokens());
    String prompt = options.prompt();
    if (options.promptName() != null) {
      prompt = model.prompts().get(options.promptName());
      if (prompt == null) {
        throw new IllegalArgumentException("prompt name \"" + options.promptName() + "\" is not defined in "
            + modelDir.resolve("config_sentence_transformers.json") + " (known: " + model.prompts().keySet() + ")");
      }
    } else if (prompt == null && model.defaultPromptName() != null) {
      prompt = model.prompts().get(model.defaultPromptName());
    }
    Integer dim = model.outputDimension();
    if (options.truncateDim() != null && dim != null) {
      if (options.truncateDim() > dim) {
        throw new IllegalArgumentException("truncate dim " + options.truncateDim() + " exceeds the model's "
            + dim + " dimensions");
      }
      dim = options.truncateDim();
    }
    return new EncoderPlan(model, adapterDir, adapter, options, maxReal, prompt == null || prompt.isEmpty() ? null
        : prompt, dim);
  }

  /**
   * Every size and shape the encoder will read is checked against config.json from the safetensors headers, so a
   * truncated, corrupt or mismatched checkpoint fails here, on a driver, instead of in every task.
   */
  private static void checkWeightHeaders(ModelDirectory model) {
    BertWeightLayout.check(Checkpoint.open(model.path()), model.bert());
    for (OutputModule m : model.outputModules()) {
      if (m instanceof DenseConfig d) {
        d.checkWeights();
      }
    }
  }

  /**
   * A TorchScript graph carries any adapter inside it, and its precision is fixed when it is exported: DJL cannot
   * cast a loaded TorchScript module, and a trace holds dtype constants of its own.
   */
  private static void checkTorchScript(ModelDirectory model, Path adapterDir, EncoderOptions options) {
    if (adapterDir != null) {
      throw new IllegalArgumentException(adapterDir + ": an adapter cannot be applied to the TorchScript model "
          + model.torchScript().modelFile() + " (a graph already holds its prompt); to declare the graph's virtual "
          + "tokens, put adapter_config.json into the model directory instead");
    }
    if (options.dtype() == Precision.FLOAT16) {
      throw new IllegalArgumentException("dtype float16 is not available for the TorchScript model "
          + model.torchScript().modelFile() + ": a graph runs in the precision it was exported in; trace a "
          + "half-precision model (model.half() on the GPU) and run it with dtype float32");
    }
  }

  /** min(max_seq_length, positions the table numbers − M, option): M virtual tokens must fit the table too. */
  private static int realTokenLimit(ModelDirectory model, EncoderOptions options, int virtualTokens) {
    int limit = model.maxSeqLength();
    Integer positions = model.isTorchScript() ? model.torchScript().maxPositions()
        : Integer.valueOf(model.bert().positionLimit());
    if (positions != null) {
      limit = Math.min(limit, positions - virtualTokens);
    }
    if (options.maxSeqLength() != null) {
      limit = Math.min(limit, options.maxSeqLength());
    }
    return limit;
  }

  /**
   * @param virtualTokens M as detected from a graph's output, where nothing declared it
   * @return the real-token limit for that M; {@link #maxRealTokens()} is the one for the declared M
   */
  int maxRealTokens(int virtualTokens) {
    return realTokenLimit(model, options, virtualTokens);
  }

  private static int declaredVirtualTokens(ModelDirectory model) {
    Integer declared = model.isTorchScript() ? model.torchScript().declaredVirtualTokens() : null;
    return declared == null ? 0 : declared;
  }

  /**
   * @return M, the virtual tokens in the model's output: a prompt-tuning adapter's, those a TorchScript directory
   *     declares, or 0 (a prefix-tuning adapter's keys lengthen the attention, not the output)
   */
  public int virtualTokens() {
    return adapter == null ? declaredVirtualTokens(model) : adapter.outputVirtualTokens();
  }

  /**
   * @return whether M is known before any batch runs: always for our own encoder, and for a TorchScript directory
   *     whose adapter_config.json declares it; otherwise M is detected from the first batch's output
   */
  public boolean declaresVirtualTokens() {
    return !model.isTorchScript() || model.torchScript().declaredVirtualTokens() != null;
  }

  /** @return where M comes from, for messages: the adapter or declaring file, the graph, or "no adapter" */
  String virtualTokenSource() {
    if (adapterDir != null) {
      return adapterDir.toString();
    }
    if (model.isTorchScript()) {
      TorchScriptConfig graph = model.torchScript();
      return graph.declarationFile() != null ? graph.declarationFile().toString()
          : "the output of " + graph.modelFile();
    }
    return "no adapter";
  }
}

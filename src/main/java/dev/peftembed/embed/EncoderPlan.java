package dev.peftembed.embed;

import dev.peftembed.model.ModelDirectory;
import dev.peftembed.peft.AdapterConfig;
import dev.peftembed.peft.PromptAdapter;
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
 * @param maxRealTokens the real-token limit: min(max_seq_length, max_position_embeddings − M, option)
 * @param prompt the text prompt prepended to every text, or {@code null}
 * @param dimension the width of the vectors produced
 */
public record EncoderPlan(
    ModelDirectory model,
    Path adapterDir,
    AdapterConfig adapter,
    EncoderOptions options,
    int maxRealTokens,
    String prompt,
    int dimension) {

  /**
   * Reads and cross-checks the configs of a model and an optional adapter; reads no weights.
   *
   * @throws dev.peftembed.model.ModelFormatException for a bad model or adapter file
   * @throws IllegalArgumentException for options the model cannot honour
   */
  public static EncoderPlan resolve(Path modelDir, Path adapterDir, EncoderOptions options) {
    ModelDirectory model = ModelDirectory.read(modelDir);
    AdapterConfig adapter = adapterDir == null ? null
        : PromptAdapter.validate(adapterDir, model.bert(), modelDir);
    int m = adapter == null ? 0 : adapter.numVirtualTokens();
    int maxReal = Math.min(model.maxSeqLength(), model.bert().maxPositions() - m);
    if (options.maxSeqLength() != null) {
      maxReal = Math.min(maxReal, options.maxSeqLength());
    }
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
    int dim = model.outputDimension();
    if (options.truncateDim() != null) {
      if (options.truncateDim() > dim) {
        throw new IllegalArgumentException("truncate dim " + options.truncateDim() + " exceeds the model's "
            + dim + " dimensions");
      }
      dim = options.truncateDim();
    }
    return new EncoderPlan(model, adapterDir, adapter, options, maxReal, prompt == null || prompt.isEmpty() ? null
        : prompt, dim);
  }

  /** @return M, the adapter's virtual tokens, or 0 */
  public int virtualTokens() {
    return adapter == null ? 0 : adapter.numVirtualTokens();
  }
}

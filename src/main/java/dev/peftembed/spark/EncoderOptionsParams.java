package dev.peftembed.spark;

import dev.peftembed.embed.DeviceChoice;
import dev.peftembed.embed.EncoderOptions;
import dev.peftembed.embed.Normalization;
import dev.peftembed.embed.Precision;
import dev.peftembed.pooling.VirtualTokenPolicy;

/**
 * How the stage's params and the encoder's typed {@link EncoderOptions} map onto each other, both ways: the one place
 * that knows which params are encoder options, that {@code 0} and {@code ""} stand for none, and which settings
 * contradict each other.
 */
final class EncoderOptionsParams {
  private EncoderOptionsParams() {}

  /**
   * @return the params as the encoder's options, with the device still as requested
   * @throws IllegalArgumentException for settings that contradict each other
   */
  static EncoderOptions read(PeftEmbedderParams params) {
    DeviceChoice where = DeviceChoice.parse(params.getDevice());
    Precision precision = Precision.parse(params.getDtype());
    if (precision == Precision.FLOAT16 && where.kind() == DeviceChoice.Kind.CPU) {
      throw new IllegalArgumentException("dtype float16 needs a GPU, but device is cpu (use float32 there)");
    }
    return EncoderOptions.defaults()
        .withVirtualTokens(VirtualTokenPolicy.parse(params.getVirtualTokens()))
        .withBatching(params.getBatchSize(), params.getMaxBatchTokens())
        .withMaxSeqLength(EncoderOptions.noneIfZero(params.getMaxSeqLength()))
        .withPrompt(params.getPrompt(), params.getPromptName().isEmpty() ? null : params.getPromptName())
        .withOutput(Normalization.parse(params.getNormalize()), EncoderOptions.noneIfZero(params.getTruncateDim()))
        .withDevice(where, precision);
  }

  /**
   * Sets every encoder param of {@code stage} from {@code options}: the inverse of {@link #read}. A {@code null}
   * prompt clears the prompt param, so that the model's default prompt applies.
   */
  static void write(EncoderOptions options, PeftEmbedder stage) {
    stage.setVirtualTokens(options.virtualTokens().toString());
    stage.setBatchSize(options.batchSize());
    stage.setMaxBatchTokens(options.maxBatchTokens());
    stage.setMaxSeqLength(zeroIfNone(options.maxSeqLength()));
    if (options.prompt() == null) {
      stage.clear(stage.prompt());
    } else {
      stage.setPrompt(options.prompt());
    }
    stage.setPromptName(options.promptName() == null ? "" : options.promptName());
    stage.setNormalize(options.normalize().toString());
    stage.setTruncateDim(zeroIfNone(options.truncateDim()));
    stage.setDevice(options.device().toString());
    stage.setDtype(options.dtype().toString());
  }

  private static int zeroIfNone(Integer limit) {
    return limit == null ? 0 : limit;
  }
}

package dev.peftembed.embed;

import ai.djl.engine.EngineException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.peftembed.model.DenseConfig;
import dev.peftembed.pooling.AlignedMask;
import dev.peftembed.pooling.PoolingMode;
import dev.peftembed.pooling.VirtualTokenPolicy;
import java.util.Arrays;
import java.util.List;

/**
 * One text's trip through pooling, for users debugging a Python pipeline: how many real and virtual tokens there are,
 * how long the model's output is, the masks each virtual-token policy builds, and what sentence-transformers' mean
 * pooling ({@code attention_mask.unsqueeze(-1).expand(token_embeddings.size())}) does with the tokenizer's N-long
 * mask. That expand is run on libtorch with the real shapes, so the failure reported is libtorch's own message.
 *
 * @param realTokens N: the tokenizer's tokens, [CLS] and [SEP] included
 * @param virtualTokens M: output positions in front of the real tokens
 * @param outputLength L = M + N: positions in the model's output
 * @param hidden the width of the token embeddings
 * @param naiveError libtorch's message for the expand of the N-long mask, or {@code null} if it succeeded
 * @param alignedExpandedShape the shape the aligned, L-long mask expands to
 * @param includeMask the pooling mask under {@code include}
 * @param excludeMask the pooling mask under {@code exclude}
 * @param policy the policy the encoder was loaded with
 * @param cosineWithEncode for a mean-pooling model without Dense: the cosine between the aligned expand's mean and
 *     {@link SentenceEncoder#encode}'s vector (1 when the aligned mask is what the encoder uses); else {@code null}
 */
public record MaskInspection(
    int realTokens,
    int virtualTokens,
    int outputLength,
    int hidden,
    String naiveError,
    long[] alignedExpandedShape,
    float[] includeMask,
    float[] excludeMask,
    VirtualTokenPolicy policy,
    Double cosineWithEncode) {

  /** What libtorch appends to an error message: the C++ stack, of no use to the reader. */
  private static final String STACK_MARKER = "Exception raised from";

  /** Runs the inspection of one text on a loaded encoder. */
  public static MaskInspection of(SentenceEncoder encoder, String text) {
    VirtualTokenPolicy policy = encoder.plan().options().virtualTokens();
    return encoder.inspect(text, (tokens, attentionMask, tokenEmbeddings, aligned) -> {
      Shape target = tokenEmbeddings.getShape();
      int n = tokens.length();
      int length = (int) target.get(1);
      int m = length - n;
      String naiveError = naiveExpand(attentionMask, target);
      float[] pooled;
      long[] expandedShape;
      try (NDArray mask = tokenEmbeddings.getManager().create(aligned.values(), new Shape(1, length));
          NDArray expanded = mask.expandDims(-1).broadcast(target);
          NDArray sum = tokenEmbeddings.toType(DataType.FLOAT32, false).mul(expanded).sum(new int[] {1});
          NDArray count = expanded.sum(new int[] {1}).maximum(1e-9f)) {
        expandedShape = expanded.getShape().getShape();
        pooled = sum.div(count).toFloatArray();
      }
      return new MaskInspection(n, m, length, (int) target.get(2), naiveError, expandedShape,
          withVirtual(aligned, m, 1f), withVirtual(aligned, m, 0f), policy,
          isPlainMean(encoder) ? cosine(pooled, encoder, text) : null);
    });
  }

  /**
   * sentence-transformers' mean pooling, up to its first step: the tokenizer's [1, N] mask unsqueezed to [1, N, 1]
   * and expanded to the output's [1, L, H]. libtorch refuses when L ≠ N.
   */
  private static String naiveExpand(NDArray attentionMask, Shape target) {
    try (NDArray unsqueezed = attentionMask.expandDims(-1); NDArray expanded = unsqueezed.broadcast(target)) {
      return null;
    } catch (EngineException e) {
      String message = String.valueOf(e.getMessage());
      int stack = message.indexOf(STACK_MARKER);
      return (stack >= 0 ? message.substring(0, stack) : message).strip();
    }
  }

  /**
   * The encoder's mask with its M virtual positions set to {@code value}: the real positions (a text prompt left out
   * of pooling included) are the same under either policy.
   */
  private static float[] withVirtual(AlignedMask aligned, int m, float value) {
    float[] values = aligned.values().clone();
    Arrays.fill(values, 0, m, value);
    return values;
  }

  private static boolean isPlainMean(SentenceEncoder encoder) {
    var model = encoder.plan().model();
    return model.pooling().modes().equals(List.of(PoolingMode.MEAN))
        && model.outputModules().stream().noneMatch(DenseConfig.class::isInstance)
        && encoder.plan().options().truncateDim() == null;
  }

  private static double cosine(float[] pooled, SentenceEncoder encoder, String text) {
    float[] v = encoder.encode(List.of(text)).get(0).vector();
    double dot = 0;
    double a = 0;
    double b = 0;
    for (int i = 0; i < v.length; i++) {
      dot += (double) pooled[i] * v[i];
      a += (double) pooled[i] * pooled[i];
      b += (double) v[i] * v[i];
    }
    return dot / Math.sqrt(a * b);
  }
}

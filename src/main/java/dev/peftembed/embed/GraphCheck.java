package dev.peftembed.embed;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.peftembed.encoder.TokenEncoder;
import dev.peftembed.model.ModelDirectory;
import dev.peftembed.model.ModelFormatException;
import dev.peftembed.pooling.MaskAligner;
import dev.peftembed.text.TextTokenizer;
import dev.peftembed.text.TokenizedText;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * Checks that a network's output fits what its directory says. A TorchScript graph is opaque until it runs, so it is
 * run once at load: a graph that takes other inputs, returns something else, or is wider than its configs fails
 * there, in one line, instead of in the middle of a job.
 */
final class GraphCheck {
  private GraphCheck() {}

  /**
   * Runs a graph once on the shortest text ([CLS] [SEP]): this checks its inputs and output, learns the token width
   * where no config states it, and shows M to the aligner as any batch does.
   *
   * @param expectedWidth the token width the configs state, or 0
   * @return the token width
   */
  static int tokenWidth(TokenEncoder model, ModelDirectory dir, MaskAligner aligner, int expectedWidth) {
    TokenizedText shortest;
    try (TextTokenizer tokenizer = TextTokenizer.load(dir.tokenizerFile(), 2, dir.doLowerCase())) {
      shortest = tokenizer.encode(List.of("")).get(0);
    }
    int n = shortest.length();
    long[] ones = new long[n];
    Arrays.fill(ones, 1L);
    Shape shape = new Shape(1, n);
    try (NDManager scope = model.manager().newSubManager()) {
      NDArray tokens = model.forward(scope.create(shortest.ids(), shape), scope.create(shortest.typeIds(), shape),
          scope.create(ones, shape));
      int width = checkWidth(tokens.getShape().get(2), expectedWidth, dir.path());
      aligner.align(new int[] {n}, n, (int) tokens.getShape().get(1), 0);
      return width;
    }
  }

  /** Without modules.json there is mean pooling alone, so the vectors are as wide as the token embeddings. */
  static int meanPoolingDimension(int tokenWidth, Integer truncateDim) {
    if (truncateDim == null) {
      return tokenWidth;
    }
    if (truncateDim > tokenWidth) {
      throw new IllegalArgumentException("truncate dim " + truncateDim + " exceeds the model's " + tokenWidth
          + " dimensions");
    }
    return truncateDim;
  }

  /** @return the width, if it is the one the configs state (or they state none) */
  static int checkWidth(long width, int expectedWidth, Path dir) {
    if (expectedWidth > 0 && width != expectedWidth) {
      throw new ModelFormatException(dir, "the model returns token embeddings " + width + " wide, but its configs "
          + "say " + expectedWidth + " (word_embedding_dimension in 1_Pooling/config.json, hidden_size in "
          + "config.json)");
    }
    return (int) width;
  }

}

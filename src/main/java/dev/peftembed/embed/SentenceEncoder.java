package dev.peftembed.embed;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.peftembed.encoder.TokenEncoder;
import dev.peftembed.pooling.AlignedMask;
import dev.peftembed.pooling.MaskAligner;
import dev.peftembed.pooling.MaskAlignmentException;
import dev.peftembed.pooling.Pooler;
import dev.peftembed.text.TextTokenizer;
import dev.peftembed.text.TokenizedText;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Text in, sentence embeddings out, as sentence-transformers (plus PEFT) computes them: tokenize, sort by length,
 * batch by token budget, encode on libtorch, align the mask to the output, pool, apply Dense and Normalize, restore
 * the input order.
 *
 * <p>Thread-safe: one instance serves every task thread of an executor. Each batch allocates from its own
 * {@link NDManager}, freed when the batch is done, so native memory stays flat however many texts pass through.
 */
public final class SentenceEncoder implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(SentenceEncoder.class);

  private final EncoderPlan plan;
  private final TokenEncoder model;
  private final TextTokenizer tokenizer;
  private final Pooler pooler;
  private final MaskAligner aligner;
  private final List<OutputStage> outputStages;
  private final int promptLength;
  private final int tokenWidth;
  private final int dimension;

  /**
   * Takes ownership of the network and the tokenizer, which {@link SentenceEncoderLoader} loads.
   *
   * @param outputStages applied in order to the pooled vectors
   * @param tokenWidth the width of the token embeddings, or 0 if nothing states it
   * @param dimension the width of the vectors produced
   */
  SentenceEncoder(EncoderPlan plan, TokenEncoder model, TextTokenizer tokenizer, List<OutputStage> outputStages,
      MaskAligner aligner, int tokenWidth, int dimension) {
    this.plan = plan;
    this.model = model;
    this.tokenizer = tokenizer;
    this.outputStages = outputStages;
    this.pooler = new Pooler(plan.model().pooling().modes());
    this.aligner = aligner;
    this.promptLength = plan.prompt() != null && !plan.model().pooling().includePrompt()
        ? tokenizer.promptLength(plan.prompt()) : 0;
    this.tokenWidth = tokenWidth;
    this.dimension = dimension;
  }

  /**
   * Loads a model directory and an optional adapter.
   *
   * @param modelDir a sentence-transformers (or plain Hugging Face) BERT-family directory, or a TorchScript
   *     directory ({@code model.pt} and {@code tokenizer.json})
   * @param adapterDir a PEFT prompt-tuning, P-tuning, prefix-tuning or LoRA adapter directory, or {@code null};
   *     never with TorchScript
   */
  public static SentenceEncoder load(Path modelDir, Path adapterDir, EncoderOptions options) {
    return SentenceEncoderLoader.load(modelDir, adapterDir, options);
  }

  /**
   * Loads the weights for a validated plan. A TorchScript graph also runs once here, on the shortest text, so that a
   * graph that does not match its directory's description (inputs, output, width, M) fails now, in one line.
   */
  public static SentenceEncoder load(EncoderPlan plan) {
    return SentenceEncoderLoader.load(plan);
  }

  /** @return the validated plan this encoder was loaded from */
  public EncoderPlan plan() {
    return plan;
  }

  /** @return the width of the vectors produced */
  public int dimension() {
    return dimension;
  }

  /** @return the width of the token embeddings, or 0 if nothing states it */
  int tokenWidth() {
    return tokenWidth;
  }

  /** @return the virtual tokens, the real-token limit and the output width, as the load log reports them */
  String describeShape() {
    return aligner.virtualTokens() + " virtual tokens" + (aligner.declared() ? "" : " (detected)") + ", max "
        + tokenizer.maxLength() + " real tokens, " + dimension + " dimensions";
  }

  /** @return the device the model runs on */
  public Device device() {
    return model.device();
  }

  /** Tokenizes texts, with the text prompt if any. Null texts give null entries. */
  public List<TokenizedText> tokenize(List<String> texts) {
    List<String> present = new ArrayList<>(texts.size());
    for (String t : texts) {
      if (t != null) {
        present.add(plan.prompt() == null ? t : plan.prompt() + t);
      }
    }
    List<TokenizedText> encoded = present.isEmpty() ? List.of() : tokenizer.encode(present);
    List<TokenizedText> out = new ArrayList<>(texts.size());
    int next = 0;
    for (String t : texts) {
      out.add(t == null ? null : encoded.get(next++));
    }
    return out;
  }

  /**
   * Encodes texts; the result has one entry per text, in input order: {@code null} for a null text, and an
   * {@link Embedding#failed} entry for a text that cannot be encoded, so that one bad row never fails the others.
   * Callers bound memory by the size of the list they pass (a window of a partition, say).
   *
   * @throws MaskAlignmentException if the model's output does not fit the virtual tokens, declared or detected
   * @throws IllegalStateException if every row fails: the fault is the encoder's, not the rows'
   */
  public List<Embedding> encode(List<String> texts) {
    Embedding[] out = new Embedding[texts.size()];
    List<TokenizedText> tokens;
    try {
      tokens = tokenize(texts);
    } catch (RuntimeException e) {
      tokens = tokenizeEach(texts, out);
    }
    int[] present = new int[tokens.size()];
    int count = 0;
    for (int i = 0; i < tokens.size(); i++) {
      if (tokens.get(i) != null) {
        present[count++] = i;
      }
    }
    int[] lengths = new int[count];
    for (int j = 0; j < count; j++) {
      lengths[j] = tokens.get(present[j]).length() + aligner.virtualTokens();
    }
    TokenBudgetBatcher batcher = new TokenBudgetBatcher(plan.options().batchSize(), plan.options().maxBatchTokens());
    for (int[] batch : batcher.batches(lengths)) {
      List<TokenizedText> rows = new ArrayList<>(batch.length);
      for (int j : batch) {
        rows.add(tokens.get(present[j]));
      }
      List<Embedding> done = encodeBatch(rows);
      for (int r = 0; r < batch.length; r++) {
        out[present[batch[r]]] = done.get(r);
      }
    }
    SystemicFailure.check(out);
    return Arrays.asList(out);
  }

  private List<TokenizedText> tokenizeEach(List<String> texts, Embedding[] out) {
    List<TokenizedText> tokens = new ArrayList<>(texts.size());
    for (int i = 0; i < texts.size(); i++) {
      try {
        tokens.add(tokenize(Collections.singletonList(texts.get(i))).get(0));
      } catch (RuntimeException e) {
        tokens.add(null);
        out[i] = Embedding.failed("tokenizer failed: " + e.getMessage());
        LOG.warn("row {} of a window cannot be tokenized: {}", i, e.getMessage());
      }
    }
    return tokens;
  }

  /** Encodes one batch; if it fails, encodes its rows one by one so that only the faulty rows fail. */
  private List<Embedding> encodeBatch(List<TokenizedText> rows) {
    try {
      return toEmbeddings(rows, forward(rows));
    } catch (MaskAlignmentException e) {
      throw e;
    } catch (RuntimeException e) {
      if (rows.size() == 1) {
        LOG.warn("a row of {} tokens cannot be encoded: {}", rows.get(0).length(), e.getMessage());
        return List.of(Embedding.failed("encoder failed: " + e.getMessage()));
      }
      LOG.warn("a batch of {} rows failed ({}); encoding its rows one by one", rows.size(), e.getMessage());
      List<Embedding> out = new ArrayList<>(rows.size());
      for (TokenizedText row : rows) {
        out.addAll(encodeBatch(List.of(row)));
      }
      return out;
    }
  }

  private static List<Embedding> toEmbeddings(List<TokenizedText> rows, float[][] vectors) {
    List<Embedding> out = new ArrayList<>(rows.size());
    for (int r = 0; r < rows.size(); r++) {
      out.add(new Embedding(vectors[r], rows.get(r).length(), rows.get(r).truncated()));
    }
    return out;
  }

  /** Runs a batch in as many passes as the encoder asks for; rows arrive longest first, so later passes pad less. */
  private float[][] forward(List<TokenizedText> rows) {
    int pass = model.rowsPerPass(PaddedBatch.paddedLength(rows));
    if (pass >= rows.size()) {
      return forwardPass(rows);
    }
    float[][] out = new float[rows.size()][];
    for (int from = 0; from < rows.size(); from += pass) {
      float[][] part = forwardPass(rows.subList(from, Math.min(rows.size(), from + pass)));
      System.arraycopy(part, 0, out, from, part.length);
    }
    return out;
  }

  private float[][] forwardPass(List<TokenizedText> rows) {
    PaddedBatch batch = PaddedBatch.of(rows);
    Shape shape = batch.shape();
    try (NDManager scope = model.manager().newSubManager()) {
      NDArray tokens = model.forward(scope.create(batch.ids(), shape), scope.create(batch.typeIds(), shape),
          scope.create(batch.attention(), shape));
      GraphCheck.checkWidth(tokens.getShape().get(2), tokenWidth, plan.model().path());
      AlignedMask poolingMask = aligner.align(batch.realLengths(), batch.padded(), (int) tokens.getShape().get(1),
          promptLength);
      NDArray x = pooler.pool(tokens, poolingMask);
      tokens.close();
      x = applyOutputStages(x);
      return split(x.toFloatArray(), batch.rows());
    }
  }

  private NDArray applyOutputStages(NDArray pooled) {
    NDArray x = pooled;
    for (OutputStage stage : outputStages) {
      NDArray next = stage.apply(x);
      if (next != x) {
        x.close();
        x = next;
      }
    }
    return x;
  }

  private static float[][] split(float[] flat, int rows) {
    int width = flat.length / rows;
    float[][] out = new float[rows][];
    for (int r = 0; r < rows; r++) {
      out[r] = Arrays.copyOfRange(flat, r * width, (r + 1) * width);
    }
    return out;
  }

  /**
   * Runs the network on one text as {@link #encode} would, and hands the pooling step's inputs to {@code inspector} inside
   * the batch's native memory scope, freed when it returns. For diagnostics (the {@code inspect} command).
   *
   * @param text a text, without the text prompt (it is prepended here, as in {@link #encode})
   */
  public <T> T inspect(String text, PoolingInspector<T> inspector) {
    TokenizedText t = tokenize(List.of(text)).get(0);
    PaddedBatch one = PaddedBatch.of(List.of(t));
    Shape shape = one.shape();
    try (NDManager scope = model.manager().newSubManager()) {
      NDArray mask = scope.create(one.attention(), shape);
      NDArray tokens = model.forward(scope.create(one.ids(), shape), scope.create(one.typeIds(), shape), mask);
      AlignedMask aligned = aligner.align(one.realLengths(), one.padded(), (int) tokens.getShape().get(1),
          promptLength);
      return inspector.apply(t, mask, tokens, aligned);
    }
  }

  /** Frees the model's native memory and the tokenizer. */
  @Override
  public void close() {
    tokenizer.close();
    model.close();
  }
}

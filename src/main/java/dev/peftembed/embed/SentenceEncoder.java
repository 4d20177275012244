package dev.peftembed.embed;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.peftembed.encoder.BertModel;
import dev.peftembed.encoder.DjlRuntime;
import dev.peftembed.encoder.PromptedBertEncoder;
import dev.peftembed.encoder.TokenEncoder;
import dev.peftembed.encoder.TorchScriptEncoder;
import dev.peftembed.encoder.WeightOverlay;
import dev.peftembed.model.Checkpoint;
import dev.peftembed.model.DenseConfig;
import dev.peftembed.model.OutputModule;
import dev.peftembed.peft.LoraAdapter;
import dev.peftembed.peft.PromptAdapter;
import dev.peftembed.pooling.AlignedMask;
import dev.peftembed.pooling.DenseLayer;
import dev.peftembed.pooling.MaskAligner;
import dev.peftembed.pooling.MaskAlignmentException;
import dev.peftembed.pooling.Normalizer;
import dev.peftembed.pooling.Pooler;
import dev.peftembed.pooling.VirtualTokenPolicy;
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

  /** Failed rows in one window, with none succeeding, that make the failure the encoder's rather than the rows'. */
  private static final int SYSTEMIC_FAILURES = 8;

  private final EncoderPlan plan;
  private final TokenEncoder model;
  private final TextTokenizer tokenizer;
  private final Pooler pooler;
  private final MaskAligner aligner;
  private final List<Object> outputStages;
  private final int promptLength;
  private final int tokenWidth;
  private final int dimension;

  /**
   * @param tokenWidth the width of the token embeddings, or 0 if nothing states it
   * @param dimension the width of the vectors produced
   */
  private SentenceEncoder(EncoderPlan plan, TokenEncoder model, TextTokenizer tokenizer, List<Object> outputStages,
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
    return load(EncoderPlan.resolve(modelDir, adapterDir, options));
  }

  /**
   * Loads the weights for a validated plan. A TorchScript graph also runs once here, on the shortest text, so that a
   * graph that does not match its directory's description (inputs, output, width, M) fails now, in one line.
   */
  public static SentenceEncoder load(EncoderPlan plan) {
    DjlRuntime.prepare();
    long start = System.nanoTime();
    Device device = plan.options().device().resolve();
    DataType dtype = plan.options().dtype() == Precision.FLOAT16 ? DataType.FLOAT16 : DataType.FLOAT32;
    if (dtype == DataType.FLOAT16 && !device.isGpu()) {
      throw new IllegalArgumentException("dtype float16 needs a GPU; the model would run on " + device
          + " (use float32 there)");
    }
    Path dir = plan.model().path();
    TokenEncoder network = plan.model().isTorchScript()
        ? TorchScriptEncoder.load(plan.model().torchScript(), device)
        : loadNative(plan, device, dtype);
    SentenceEncoder encoder = create(plan, network);
    LOG.info("loaded {}{} on {} ({}) in {} ms: {}, {} virtual tokens{}, max {} real tokens, {} dimensions", dir,
        plan.adapterDir() == null ? "" : " + adapter " + plan.adapterDir(), device, network.dtype(),
        (System.nanoTime() - start) / 1_000_000, describeNetwork(plan, encoder.tokenWidth),
        encoder.aligner.virtualTokens(), encoder.aligner.declared() ? "" : " (detected)",
        encoder.tokenizer.maxLength(), encoder.dimension);
    return encoder;
  }

  private static TokenEncoder loadNative(EncoderPlan plan, Device device, DataType dtype) {
    Path dir = plan.model().path();
    if (LoraAdapter.isLora(plan.adapter())) {
      WeightOverlay merged = LoraAdapter.load(plan.adapterDir(), plan.model().bert()).merged();
      return new PromptedBertEncoder(BertModel.load(Checkpoint.open(dir), plan.model().bert(), device, dtype, merged),
          null);
    }
    PromptAdapter adapter = plan.adapterDir() == null ? null
        : PromptAdapter.load(plan.adapterDir(), plan.model().bert(), dir);
    BertModel base = BertModel.load(Checkpoint.open(dir), plan.model().bert(), device, dtype);
    try {
      if (adapter != null && adapter.config().isPrefix()) {
        return PromptedBertEncoder.withPrefix(base, adapter.promptEmbeddings());
      }
      return new PromptedBertEncoder(base, adapter == null ? null : adapter.promptEmbeddings());
    } catch (RuntimeException e) {
      base.close();
      throw e;
    }
  }

  private static String describeNetwork(EncoderPlan plan, int tokenWidth) {
    if (plan.model().isTorchScript()) {
      return "TorchScript graph taking " + plan.model().torchScript().inputNames() + ", hidden " + tokenWidth;
    }
    return plan.model().bert().numLayers() + " layers, hidden " + plan.model().bert().hiddenSize();
  }

  /**
   * Wraps a loaded network with the plan's tokenizer, pooling and output modules; closes the network on failure.
   * A TorchScript graph is run once here (see {@link GraphCheck#probe}).
   */
  static SentenceEncoder create(EncoderPlan plan, TokenEncoder model) {
    TextTokenizer tokenizer = null;
    try {
      VirtualTokenPolicy policy = plan.options().virtualTokens();
      MaskAligner aligner = plan.declaresVirtualTokens()
          ? new MaskAligner(plan.virtualTokens(), policy, plan.virtualTokenSource())
          : MaskAligner.detecting(policy, plan.virtualTokenSource());
      int tokenWidth = plan.model().pooling().dimension();
      int dimension = plan.dimension();
      if (plan.model().isTorchScript()) {
        tokenWidth = GraphCheck.probe(model, plan.model(), aligner, tokenWidth);
        if (dimension == 0) {
          dimension = GraphCheck.meanPoolingDimension(tokenWidth, plan.options().truncateDim());
        }
      }
      // Virtual tokens detected by the probe must fit the position table beside the real ones, as declared ones do;
      // a declared prefix takes positions without lengthening the output, so the plan's own limit counts it.
      int maxReal = plan.declaresVirtualTokens() ? plan.maxRealTokens() : plan.maxRealTokens(aligner.virtualTokens());
      tokenizer = TextTokenizer.load(plan.model().tokenizerFile(), maxReal, plan.model().doLowerCase());
      List<Object> stages = new ArrayList<>();
      for (OutputModule m : plan.model().outputModules()) {
        stages.add(m instanceof DenseConfig d ? DenseLayer.load(d, model.manager()) : m);
      }
      return new SentenceEncoder(plan, model, tokenizer, List.copyOf(stages), aligner, tokenWidth, dimension);
    } catch (RuntimeException e) {
      if (tokenizer != null) {
        tokenizer.close();
      }
      model.close();
      throw e;
    }
  }

  /** @return the validated plan this encoder was loaded from */
  public EncoderPlan plan() {
    return plan;
  }

  /** @return the width of the vectors produced */
  public int dimension() {
    return dimension;
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
    for (int[] batch : batcher.plan(lengths)) {
      List<TokenizedText> rows = new ArrayList<>(batch.length);
      for (int j : batch) {
        rows.add(tokens.get(present[j]));
      }
      List<Embedding> done = encodeBatch(rows);
      for (int r = 0; r < batch.length; r++) {
        out[present[batch[r]]] = done.get(r);
      }
    }
    checkNotAllFailed(out);
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

  /**
   * A window where many rows fail and none succeeds points at the encoder (a lost GPU, a broken model), not at the
   * rows: failing loudly beats writing a table of nulls.
   */
  private static void checkNotAllFailed(Embedding[] out) {
    int failed = 0;
    String firstError = null;
    for (Embedding e : out) {
      if (e != null && e.succeeded()) {
        return;
      }
      if (e != null) {
        failed++;
        firstError = firstError == null ? e.error() : firstError;
      }
    }
    if (failed >= SYSTEMIC_FAILURES) {
      throw new IllegalStateException("all " + failed + " rows of the window failed; the encoder itself is at "
          + "fault: " + firstError);
    }
  }

  /** Runs a batch in as many passes as the encoder asks for; rows arrive longest first, so later passes pad less. */
  private float[][] forward(List<TokenizedText> rows) {
    int pass = model.rowsPerPass(paddedLength(rows));
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

  private static int paddedLength(List<TokenizedText> rows) {
    int padded = 0;
    for (TokenizedText t : rows) {
      padded = Math.max(padded, t.length());
    }
    return padded;
  }

  private float[][] forwardPass(List<TokenizedText> rows) {
    int batch = rows.size();
    int padded = paddedLength(rows);
    long[] ids = new long[batch * padded];
    long[] types = new long[batch * padded];
    long[] attention = new long[batch * padded];
    int[] realLengths = new int[batch];
    for (int b = 0; b < batch; b++) {
      TokenizedText t = rows.get(b);
      realLengths[b] = t.length();
      System.arraycopy(t.ids(), 0, ids, b * padded, t.length());
      System.arraycopy(t.typeIds(), 0, types, b * padded, t.length());
      Arrays.fill(attention, b * padded, b * padded + t.length(), 1L);
    }
    Shape shape = new Shape(batch, padded);
    try (NDManager scope = model.manager().newSubManager()) {
      NDArray tokens = model.forward(scope.create(ids, shape), scope.create(types, shape),
          scope.create(attention, shape));
      GraphCheck.checkWidth(tokens.getShape().get(2), tokenWidth, plan.model().path());
      AlignedMask poolingMask = aligner.align(realLengths, padded, (int) tokens.getShape().get(1), promptLength);
      NDArray x = pooler.pool(tokens, poolingMask);
      tokens.close();
      x = applyOutputStages(x);
      return split(x.toFloatArray(), batch);
    }
  }

  private NDArray applyOutputStages(NDArray pooled) {
    NDArray x = pooled;
    Normalization normalize = plan.options().normalize();
    for (Object stage : outputStages) {
      NDArray next;
      if (stage instanceof DenseLayer dense) {
        next = dense.forward(x);
      } else if (normalize == Normalization.FALSE) {
        continue;
      } else {
        next = Normalizer.normalize(x);
      }
      x.close();
      x = next;
    }
    Integer dims = plan.options().truncateDim();
    if (dims != null && dims < x.getShape().get(1)) {
      NDArray cut = x.get(":, :{}", dims);
      x.close();
      x = cut;
    }
    if (normalize == Normalization.TRUE) {
      NDArray unit = Normalizer.normalize(x);
      x.close();
      x = unit;
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
   * Runs the network on one text as {@link #encode} would, and hands the pooling step's inputs to {@code probe} inside
   * the batch's native memory scope, freed when it returns. For diagnostics (the {@code inspect} command).
   *
   * @param text a text, without the text prompt (it is prepended here, as in {@link #encode})
   */
  public <T> T probe(String text, PoolingProbe<T> probe) {
    TokenizedText t = tokenize(List.of(text)).get(0);
    int n = t.length();
    long[] attention = new long[n];
    Arrays.fill(attention, 1L);
    Shape shape = new Shape(1, n);
    try (NDManager scope = model.manager().newSubManager()) {
      NDArray mask = scope.create(attention, shape);
      NDArray tokens = model.forward(scope.create(t.ids(), shape), scope.create(t.typeIds(), shape), mask);
      AlignedMask aligned = aligner.align(new int[] {n}, n, (int) tokens.getShape().get(1), promptLength);
      return probe.apply(t, mask, tokens, aligned);
    }
  }

  /** What {@link #probe} hands over: the inputs of the pooling step for one text. */
  @FunctionalInterface
  public interface PoolingProbe<T> {
    /**
     * @param tokens the text's tokens
     * @param attentionMask [1, N] int64: the tokenizer's mask
     * @param tokenEmbeddings [1, L, H]: the network's output, L = M + N
     * @param aligned the pooling mask this encoder builds, L long
     */
    T apply(TokenizedText tokens, NDArray attentionMask, NDArray tokenEmbeddings, AlignedMask aligned);
  }

  /** Frees the model's native memory and the tokenizer. */
  @Override
  public void close() {
    tokenizer.close();
    model.close();
  }
}

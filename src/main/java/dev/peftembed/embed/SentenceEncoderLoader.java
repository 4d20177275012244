package dev.peftembed.embed;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.peftembed.encoder.TokenEncoder;
import dev.peftembed.encoder.TorchScriptTokenEncoder;
import dev.peftembed.encoder.WeightOverlay;
import dev.peftembed.encoder.bert.BertModel;
import dev.peftembed.encoder.bert.BertTokenEncoder;
import dev.peftembed.encoder.mpnet.MPNetModel;
import dev.peftembed.encoder.mpnet.MPNetTokenEncoder;
import dev.peftembed.model.Architecture;
import dev.peftembed.model.Checkpoint;
import dev.peftembed.model.DenseConfig;
import dev.peftembed.model.OutputModule;
import dev.peftembed.peft.LoraAdapter;
import dev.peftembed.peft.PromptAdapter;
import dev.peftembed.pooling.DenseLayer;
import dev.peftembed.pooling.MaskAligner;
import dev.peftembed.pooling.VirtualTokenPolicy;
import dev.peftembed.runtime.DjlRuntime;
import dev.peftembed.text.TextTokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds a {@link SentenceEncoder} from a validated {@link EncoderPlan}: the network (native BERT with the adapter's
 * prompt or prefix, or a TorchScript graph) on the chosen device, the tokenizer, the mask aligner and the output stages.
 * {@link SentenceEncoder#load} is its public entry point.
 */
final class SentenceEncoderLoader {
  private static final Logger LOG = LoggerFactory.getLogger(SentenceEncoderLoader.class);

  private SentenceEncoderLoader() {}

  /** See {@link SentenceEncoder#load(Path, Path, EncoderOptions)}. */
  static SentenceEncoder load(Path modelDir, Path adapterDir, EncoderOptions options) {
    return load(EncoderPlan.resolve(modelDir, adapterDir, options));
  }

  /** See {@link SentenceEncoder#load(EncoderPlan)}. */
  static SentenceEncoder load(EncoderPlan plan) {
    DjlRuntime.prepare();
    long start = System.nanoTime();
    Device device = plan.options().device().resolve();
    DataType dtype = computeType(plan.options(), device);
    TokenEncoder network = plan.model().isTorchScript()
        ? TorchScriptTokenEncoder.load(plan.model().torchScript(), device)
        : loadNative(plan, device, dtype);
    SentenceEncoder encoder = create(plan, network);
    LOG.info("loaded {}{} on {} ({}) in {} ms: {}, {}", plan.model().path(),
        plan.adapterDir() == null ? "" : " + adapter " + plan.adapterDir(), device, network.dtype(),
        (System.nanoTime() - start) / 1_000_000, describeNetwork(plan, encoder.tokenWidth()), encoder.describeShape());
    return encoder;
  }

  /** @return the compute dtype the options ask for, once it is known to run on {@code device} */
  static DataType computeType(EncoderOptions options, Device device) {
    DataType dtype = options.dtype() == Precision.FLOAT16 ? DataType.FLOAT16 : DataType.FLOAT32;
    if (dtype == DataType.FLOAT16 && !device.isGpu()) {
      throw new IllegalArgumentException("dtype float16 needs a GPU; the model would run on " + device
          + " (use float32 there)");
    }
    return dtype;
  }

  private static TokenEncoder loadNative(EncoderPlan plan, Device device, DataType dtype) {
    // The adapter first: it is small, and failing on it must not leave the model's native memory behind.
    boolean lora = LoraAdapter.isLora(plan.adapter());
    WeightOverlay overlay = lora ? LoraAdapter.load(plan.adapterDir(), plan.model().bert()).merged()
        : WeightOverlay.NONE;
    PromptAdapter adapter = lora ? null : loadAdapter(plan);
    if (plan.model().bert().architecture() == Architecture.MPNET) {
      MPNetModel mpnet = MPNetModel.load(Checkpoint.open(plan.model().path()), plan.model().bert(), device, dtype,
          overlay);
      return new MPNetTokenEncoder(mpnet, adapter == null ? null : adapter.promptEmbeddings());
    }
    BertModel base = BertModel.load(Checkpoint.open(plan.model().path()), plan.model().bert(), device, dtype,
        overlay);
    try {
      if (adapter != null && adapter.config().isPrefix()) {
        return BertTokenEncoder.withPrefix(base, adapter.promptEmbeddings());
      }
      return new BertTokenEncoder(base, adapter == null ? null : adapter.promptEmbeddings());
    } catch (RuntimeException e) {
      base.close();
      throw e;
    }
  }


  /** @return the plan's adapter, or {@code null} without one */
  private static PromptAdapter loadAdapter(EncoderPlan plan) {
    if (plan.adapterDir() == null) {
      return null;
    }
    return PromptAdapter.load(plan.adapterDir(), plan.model().bert(), plan.model().path());
  }

  private static String describeNetwork(EncoderPlan plan, int tokenWidth) {
    if (plan.model().isTorchScript()) {
      return "TorchScript graph taking " + plan.model().torchScript().inputNames() + ", hidden " + tokenWidth;
    }
    return plan.model().bert().architecture().modelType() + ", " + plan.model().bert().numLayers() + " layers, hidden "
        + plan.model().bert().hiddenSize();
  }

  /**
   * Wraps a loaded network with the plan's tokenizer, pooling and output modules; closes the network on failure.
   * A TorchScript graph is run once here (see {@link GraphCheck#tokenWidth}).
   */
  static SentenceEncoder create(EncoderPlan plan, TokenEncoder model) {
    TextTokenizer tokenizer = null;
    try {
      VirtualTokenPolicy policy = plan.options().virtualTokens();
      MaskAligner aligner = plan.declaresVirtualTokens()
          ? new MaskAligner(plan.virtualTokens(), policy, plan.virtualTokenSource())
          : MaskAligner.detecting(policy, plan.virtualTokenSource());
      Integer tokenWidth = plan.model().pooling().dimension();
      Integer dimension = plan.dimension();
      if (plan.model().isTorchScript()) {
        tokenWidth = GraphCheck.tokenWidth(model, plan.model(), aligner, tokenWidth);
        if (dimension == null) {
          dimension = GraphCheck.meanPoolingDimension(tokenWidth, plan.options().truncateDim());
        }
      }
      // Virtual tokens detected by the graph check must fit the position table beside the real ones, as declared ones do;
      // a declared prefix takes positions without lengthening the output, so the plan's own limit counts it.
      int maxReal = plan.declaresVirtualTokens() ? plan.maxRealTokens() : plan.maxRealTokens(aligner.virtualTokens());
      tokenizer = TextTokenizer.load(plan.model().tokenizerFile(), maxReal, plan.model().doLowerCase());
      List<OutputStage> stages = outputStages(plan.model().outputModules(), plan.options(), model.manager());
      return new SentenceEncoder(plan, model, tokenizer, stages, aligner, tokenWidth, dimension);
    } catch (RuntimeException e) {
      if (tokenizer != null) {
        tokenizer.close();
      }
      model.close();
      throw e;
    }
  }

  /**
   * The model's output modules in modules.json order, less Normalize when the options turn it off, then the cut and
   * the forced normalization the options ask for.
   *
   * @param manager owns the Dense weights for the life of the model
   */
  private static List<OutputStage> outputStages(List<OutputModule> modules, EncoderOptions options,
      NDManager manager) {
    List<OutputStage> stages = new ArrayList<>();
    for (OutputModule module : modules) {
      if (module instanceof DenseConfig dense) {
        stages.add(new OutputStage.Dense(DenseLayer.load(dense, manager)));
      } else if (module instanceof OutputModule.Normalize && options.normalize() != Normalization.FALSE) {
        stages.add(new OutputStage.Normalize());
      }
    }
    if (options.truncateDim() != null) {
      stages.add(new OutputStage.Truncate(options.truncateDim()));
    }
    if (options.normalize() == Normalization.TRUE) {
      stages.add(new OutputStage.Normalize());
    }
    return List.copyOf(stages);
  }
}

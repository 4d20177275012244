package dev.peftembed.encoder;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.Model;
import ai.djl.engine.EngineException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValue;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.util.Pair;
import dev.peftembed.model.ModelFormatException;
import dev.peftembed.model.TorchScriptConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * A TorchScript graph ({@code model.pt}, traced or scripted) run as it is through libtorch. It takes
 * {@code input_ids}, {@code attention_mask} and perhaps {@code token_type_ids} as int64, in the order its
 * {@link TorchScriptConfig} read from the graph's code or from serving.properties, and returns the token embeddings,
 * which may be longer than the mask by virtual tokens baked into the graph: the caller aligns the mask to them.
 *
 * <p>Only TorchScript archives are loaded, by libtorch's own loader; files written by {@code torch.save} (pickles,
 * which can run code) are refused by it and reported as a format error. A loaded graph is run concurrently by every
 * task thread of an executor, which libtorch supports for inference.
 */
public final class TorchScriptTokenEncoder implements TokenEncoder {
  private final Model model;
  private final PtSymbolBlock graph;
  private final TorchScriptConfig config;
  private final GraphOutput output;
  private final DataType dtype;

  private TorchScriptTokenEncoder(Model model, PtSymbolBlock graph, TorchScriptConfig config, DataType dtype) {
    this.model = model;
    this.graph = graph;
    this.config = config;
    this.output = new GraphOutput(config.output(), config.modelFile());
    this.dtype = dtype;
  }

  /**
   * Loads {@code model.pt} onto {@code device}, whatever device it was saved from.
   *
   * @throws ModelFormatException one line naming the file, if it is not a TorchScript archive libtorch can load
   */
  public static TorchScriptTokenEncoder load(TorchScriptConfig config, Device device) {
    Path file = config.modelFile();
    Model model = Model.newInstance(file.toString(), device, "PyTorch");
    try {
      String prefix = file.getFileName().toString().replaceFirst("\\.pt$", "");
      model.load(file.getParent(), prefix, Map.of("mapLocation", "true"));
      if (!(model.getBlock() instanceof PtSymbolBlock graph)) {
        throw new ModelFormatException(file, "not loaded as a TorchScript module");
      }
      return new TorchScriptTokenEncoder(model, graph, config, floatingType(graph));
    } catch (IOException | MalformedModelException | EngineException e) {
      model.close();
      throw new ModelFormatException(file, "cannot load the TorchScript graph (expected an archive written by "
          + "torch.jit.save; files from torch.save are pickles and never loaded): " + summary(e.getMessage()), e);
    } catch (RuntimeException e) {
      model.close();
      throw e;
    }
  }

  /** The precision of the graph's weights: what it computes in, fixed when it was exported. */
  private static DataType floatingType(PtSymbolBlock graph) {
    for (Pair<String, Parameter> p : graph.getDirectParameters()) {
      DataType t = p.getValue().getArray().getDataType();
      if (t.isFloating()) {
        return t;
      }
    }
    return DataType.FLOAT32;
  }

  /**
   * @throws ModelFormatException naming the graph and the batch shape, if the graph fails on the batch or returns
   *     something other than [B, L, H] token embeddings
   */
  @Override
  public NDArray forward(NDArray ids, NDArray typeIds, NDArray attentionMask) {
    JniUtils.setGradMode(false);
    // Thread-local in libtorch, so set on every task thread. The optimizing executor profiles the first calls and
    // compiles kernels specialized to the shapes it saw: batches of varying shapes then pay recompilations, and fused
    // kernels round differently from the ops the graph records. Unoptimized, a graph runs exactly its recorded ops.
    JniUtils.setGraphExecutorOptimize(false);
    IValue[] inputs = new IValue[config.inputCount()];
    for (int i = 0; i < inputs.length; i++) {
      inputs[i] = ivalue(switch (config.inputs().get(i)) {
        case INPUT_IDS -> ids;
        case ATTENTION_MASK -> attentionMask;
        case TOKEN_TYPE_IDS -> typeIds;
      });
    }
    try (IValue out = graph.forward(inputs)) {
      return output.select(out, (PtNDManager) ids.getManager(), ids.getShape().get(0));
    } catch (EngineException e) {
      throw new ModelFormatException(config.modelFile(), "the graph failed on input_ids of shape " + ids.getShape()
          + " given " + config.inputNames() + ": " + summary(e.getMessage()) + hint(e.getMessage()), e);
    } finally {
      for (IValue v : inputs) {
        v.close();
      }
    }
  }

  private static IValue ivalue(NDArray array) {
    return IValue.from((PtNDArray) array);
  }

  /** What to change when the inputs were declared by hand and libtorch says they do not fit forward. */
  private String hint(String message) {
    if (message != null && message.contains("argument") && config.inputsFromServingProperties()) {
      boolean three = config.inputCount() == 3;
      return " (set " + TorchScriptConfig.TOKEN_TYPES_KEY + "=" + !three + " in serving.properties if forward takes "
          + (three ? "two inputs" : "token_type_ids as its third input") + ", or remove the key to read the inputs "
          + "from the graph's code)";
    }
    return "";
  }

  /**
   * libtorch's messages run over many lines (TorchScript tracebacks, C++ frames). The line that says what went
   * wrong is the last "...Error: ..." line of a TorchScript traceback, else the first line.
   */
  private static String summary(String message) {
    if (message == null || message.isBlank()) {
      return "no message from libtorch";
    }
    String[] lines = message.strip().split("\\R");
    for (int i = lines.length - 1; i >= 0; i--) {
      String line = lines[i].strip();
      if (line.matches("^[A-Za-z.]*Error: .*")) {
        return line;
      }
    }
    return lines[0].strip();
  }

  @Override
  public NDManager manager() {
    return model.getNDManager();
  }

  @Override
  public Device device() {
    return model.getNDManager().getDevice();
  }

  @Override
  public DataType dtype() {
    return dtype;
  }

  @Override
  public void close() {
    model.close();
  }
}

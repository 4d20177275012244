package dev.peftembed.onnx;

import dev.peftembed.model.ModelFormatException;
import dev.peftembed.model.SafetensorsWriter.Entry;
import dev.peftembed.onnx.OnnxGraph.Node;
import dev.peftembed.onnx.OnnxGraph.OnnxTensor;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The float weights of an ONNX export under their Hugging Face parameter names.
 *
 * <p>{@code torch.onnx.export} keeps parameter names for most initializers but constant-folds each linear layer's
 * transposed weight into an anonymous {@code onnx::MatMul_N} tensor of shape {@code [in, out]}. Those are named
 * after the MatMul node that reads them ({@code /encoder/layer.0/attention/self/query/MatMul} gives
 * {@code encoder.layer.0.attention.self.query.weight}) and transposed back to {@code [out, in]}.
 */
final class OnnxWeights {

  /** Dotted parameter names as PyTorch writes them; anonymous tensors ({@code onnx::X}, {@code /a/b}) fail it. */
  private static final Pattern PARAMETER_NAME = Pattern.compile("[A-Za-z_]\\w*(\\.\\w+)*");
  /** A MatMul node named after its module path, with the exporter's optional de-duplication suffix. */
  private static final Pattern MATMUL_NODE = Pattern.compile("/(.+)/MatMul(_\\d+)?");

  private OnnxWeights() {}

  /**
   * Collects the float weights under their Hugging Face names: named initializers as they are, anonymous MatMul
   * weights named after their node and transposed to {@code [out, in]}. Integer buffers and anonymous constants
   * are not weights and are left out.
   *
   * @return the weights by name, in name order
   * @throws ModelFormatException if a weight is not float32, cannot be named, or two map to one name
   */
  static SortedMap<String, Entry> extract(OnnxGraph graph) {
    Path source = graph.source();
    SortedMap<String, Entry> weights = new TreeMap<>();
    for (Node node : graph.nodes()) {
      if (!node.opType().equals("MatMul") || node.inputs().size() != 2) {
        continue;
      }
      Optional<OnnxTensor> weight = graph.initializer(node.inputs().get(1));
      if (weight.isEmpty() || PARAMETER_NAME.matcher(weight.get().name()).matches()) {
        continue;
      }
      requireFloat(weight.get(), source);
      put(weights, weightName(node, weight.get(), source), transpose(weight.get(), source), source);
    }
    for (OnnxTensor t : graph.initializers()) {
      if (t.dims().length == 0 || !PARAMETER_NAME.matcher(t.name()).matches() || isInteger(t.dataType())) {
        continue;
      }
      requireFloat(t, source);
      put(weights, t.name(), new Entry(t.dims(), t.floatData()), source);
    }
    return weights;
  }

  private static String weightName(Node node, OnnxTensor weight, Path source) {
    Matcher m = MATMUL_NODE.matcher(node.name());
    if (!m.matches()) {
      throw new ModelFormatException(source, "cannot name weight '" + weight.name() + "': it is read by MatMul node '"
          + node.name() + "', not by a node named after its module like /encoder/layer.0/attention/self/query/MatMul");
    }
    return m.group(1).replace('/', '.') + ".weight";
  }

  private static Entry transpose(OnnxTensor weight, Path source) {
    long[] dims = weight.dims();
    if (dims.length != 2) {
      throw new ModelFormatException(source, "MatMul weight '" + weight.name() + "' has shape "
          + Arrays.toString(dims) + ", expected [in, out]");
    }
    int in = (int) dims[0];
    int out = (int) dims[1];
    float[] src = weight.floatData();
    float[] dst = new float[src.length];
    for (int i = 0; i < in; i++) {
      for (int o = 0; o < out; o++) {
        dst[o * in + i] = src[i * out + o];
      }
    }
    return new Entry(new long[] {out, in}, dst);
  }

  private static void put(SortedMap<String, Entry> weights, String name, Entry entry, Path source) {
    if (weights.putIfAbsent(name, entry) != null) {
      throw new ModelFormatException(source, "two tensors map to the weight name '" + name + "'");
    }
  }

  private static boolean isInteger(int dataType) {
    // UINT8..INT64, BOOL, UINT32, UINT64: buffers such as position_ids, never trainable weights.
    return (dataType >= 2 && dataType <= 7) || dataType == 9 || dataType == 12 || dataType == 13;
  }

  private static void requireFloat(OnnxTensor t, Path source) {
    if (t.dataType() != OnnxGraph.FLOAT) {
      throw new ModelFormatException(source, "weight '" + t.name() + "' is " + OnnxGraph.dataTypeName(t.dataType())
          + "; only float32 exports are supported");
    }
  }
}

package dev.peftembed.onnx;

import dev.peftembed.model.BertConfig;
import dev.peftembed.model.BertWeightLayout;
import dev.peftembed.model.HiddenActivation;
import dev.peftembed.model.ModelFormatException;
import dev.peftembed.model.SafetensorsWriter.Entry;
import dev.peftembed.onnx.OnnxGraph.Attribute;
import dev.peftembed.onnx.OnnxGraph.Node;
import dev.peftembed.onnx.OnnxGraph.OnnxTensor;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Infers the {@link BertConfig} of an ONNX export, which carries no {@code config.json}: the sizes come from the
 * weights' shapes, the head count, LayerNorm epsilon and activation from patterns in the graph.
 */
final class BertConfigInference {
  private static final Logger LOG = LoggerFactory.getLogger(BertConfigInference.class);

  private static final Pattern LAYER_INDEX = Pattern.compile("encoder\\.layer\\.(\\d+)\\..*");
  private static final String SELF_ATTENTION_SCOPE = "/encoder/layer.0/attention/self/";
  /** What {@code BertConfig} assumes when the graph has no LayerNorm to read it from. */
  private static final double DEFAULT_LAYER_NORM_EPS = 1e-12;
  /** The ONNX default of {@code LayerNormalization}'s {@code epsilon} attribute. */
  private static final double ONNX_LAYER_NORM_EPS = 1e-5;

  private BertConfigInference() {}

  /**
   * @param weights the export's weights under Hugging Face names ({@link OnnxWeights#extract})
   * @param headsOverride the head count to use, or null to read it from the graph
   * @return the config, checked against every weight the encoder reads
   * @throws ModelFormatException if the export is not a BERT-style encoder or the graph does not tell a value
   * @throws IllegalArgumentException if {@code headsOverride} does not divide the hidden size
   */
  static BertConfig infer(OnnxGraph graph, SortedMap<String, Entry> weights, Integer headsOverride) {
    Path source = graph.source();
    long[] words = shapeOf(weights, "embeddings.word_embeddings.weight", source);
    if (words.length != 2) {
      throw new ModelFormatException(source, "embeddings.word_embeddings.weight has shape "
          + Arrays.toString(words) + ", expected [vocab, hidden]");
    }
    int vocab = (int) words[0];
    int hidden = (int) words[1];
    int maxPositions = (int) shapeOf(weights, "embeddings.position_embeddings.weight", source)[0];
    int typeVocab = (int) shapeOf(weights, "embeddings.token_type_embeddings.weight", source)[0];
    refuseRobertaPositions(graph);
    int layers = countLayers(weights, source);
    int intermediate = (int) shapeOf(weights, "encoder.layer.0.intermediate.dense.weight", source)[0];
    BertConfig config = new BertConfig(hidden, layers, heads(graph, hidden, headsOverride), intermediate,
        maxPositions, vocab, typeVocab, layerNormEps(graph), activation(graph), null);
    requireLayout(weights, config, source);
    return config;
  }

  /**
   * A RoBERTa or XLM-R export numbers positions from the ids with a CumSum (transformers'
   * {@code create_position_ids_from_input_ids}); imported as a BERT it would read the wrong position rows.
   */
  private static void refuseRobertaPositions(OnnxGraph graph) {
    if (graph.nodes().stream().anyMatch(n -> n.opType().equals("CumSum"))) {
      throw new ModelFormatException(graph.source(), "numbers positions with a CumSum, as RoBERTa and XLM-RoBERTa "
          + "exports do; import-onnx takes BERT exports only (use the model's sentence-transformers directory)");
    }
  }

  private static long[] shapeOf(SortedMap<String, Entry> weights, String name, Path source) {
    Entry e = weights.get(name);
    if (e == null || e.shape().length == 0) {
      throw new ModelFormatException(source, "has no weight '" + name + "'; is it a BERT-style encoder export?");
    }
    return e.shape();
  }

  private static int countLayers(SortedMap<String, Entry> weights, Path source) {
    Set<Integer> indices = new TreeSet<>();
    for (String name : weights.keySet()) {
      Matcher m = LAYER_INDEX.matcher(name);
      if (m.matches()) {
        indices.add(Integer.parseInt(m.group(1)));
      }
    }
    if (indices.isEmpty() || !indices.contains(indices.size() - 1)) {
      throw new ModelFormatException(source, "encoder layers " + indices + " are not numbered 0..N-1");
    }
    return indices.size();
  }

  private static void requireLayout(SortedMap<String, Entry> weights, BertConfig config, Path source) {
    BertWeightLayout.forEach(config, (name, shape) -> {
      Entry actual = weights.get(name);
      if (actual == null) {
        throw new ModelFormatException(source, "has no weight '" + name + "'; is it a BERT-style encoder export?");
      }
      if (!Arrays.equals(actual.shape(), shape)) {
        throw new ModelFormatException(source, "weight '" + name + "' has shape " + Arrays.toString(actual.shape())
            + ", expected " + Arrays.toString(shape));
      }
    });
  }

  /**
   * The head count, from the override or the graph. The graph gives it twice: the score scale 1/sqrt(head_dim)
   * applied before the softmax, and the [batch, seq, heads, head_dim] shape queries are reshaped to.
   */
  private static int heads(OnnxGraph graph, int hidden, Integer override) {
    OptionalInt fromScale = headsFromScale(graph, hidden);
    OptionalInt fromReshape = headsFromReshape(graph, hidden);
    if (override != null) {
      if (hidden % override != 0) {
        throw new IllegalArgumentException(override + " attention heads do not divide hidden size " + hidden);
      }
      Stream.of(fromScale, fromReshape).filter(h -> h.isPresent() && h.getAsInt() != override).findFirst()
          .ifPresent(h -> LOG.warn("Using {} attention heads as asked, though {} suggests {}", override,
              graph.source(), h.getAsInt()));
      return override;
    }
    if (fromScale.isPresent() && fromReshape.isPresent() && fromScale.getAsInt() != fromReshape.getAsInt()) {
      throw new ModelFormatException(graph.source(), "the attention scale implies " + fromScale.getAsInt()
          + " heads but the attention reshape " + fromReshape.getAsInt() + "; pass --num-heads");
    }
    if (fromScale.isPresent()) {
      return fromScale.getAsInt();
    }
    if (fromReshape.isPresent()) {
      return fromReshape.getAsInt();
    }
    throw new ModelFormatException(graph.source(), "cannot derive the number of attention heads: no constant"
        + " attention scale or head reshape under " + SELF_ATTENTION_SCOPE + "; pass --num-heads");
  }

  private static OptionalInt headsFromScale(OnnxGraph graph, int hidden) {
    // Some exporters split the scale between queries and keys, so the factors are multiplied together.
    double scale = 1;
    boolean found = false;
    for (Node n : graph.nodes()) {
      boolean div = n.opType().equals("Div");
      if (!n.name().startsWith(SELF_ATTENTION_SCOPE) || !(div || n.opType().equals("Mul"))) {
        continue;
      }
      OptionalDouble c = scalarOperand(graph, n);
      if (c.isPresent()) {
        scale *= div ? 1 / c.getAsDouble() : c.getAsDouble();
        found = true;
      }
    }
    if (!found) {
      return OptionalInt.empty();
    }
    double headDim = 1 / (scale * scale);
    long rounded = Math.round(headDim);
    if (rounded < 1 || Math.abs(headDim - rounded) > 1e-3 * rounded || hidden % rounded != 0) {
      LOG.debug("Attention scale {} of {} gives head size {}, which does not fit hidden size {}", scale,
          graph.source(), headDim, hidden);
      return OptionalInt.empty();
    }
    return OptionalInt.of((int) (hidden / rounded));
  }

  private static OptionalInt headsFromReshape(OnnxGraph graph, int hidden) {
    for (Node n : graph.nodes()) {
      if (!n.name().startsWith(SELF_ATTENTION_SCOPE) || !n.opType().equals("Reshape") || n.inputs().size() < 2) {
        continue;
      }
      long[] shape = targetShape(graph, n.inputs().get(1));
      if (shape.length == 4 && shape[2] > 0 && shape[3] > 0 && shape[2] * shape[3] == hidden) {
        return OptionalInt.of((int) shape[2]);
      }
    }
    return OptionalInt.empty();
  }

  /**
   * The target shape of a Reshape as far as it is constant: a constant tensor, or a Concat of pieces where the
   * batch and sequence sizes are computed at run time. Unknown entries are {@link Long#MIN_VALUE}.
   */
  private static long[] targetShape(OnnxGraph graph, String value) {
    Optional<OnnxTensor> constant = graph.constant(value);
    if (constant.isPresent()) {
      return constant.get().dataType() == OnnxGraph.INT64 ? constant.get().int64Data() : new long[0];
    }
    Optional<Node> concat = graph.producer(value).filter(p -> p.opType().equals("Concat"));
    if (concat.isEmpty()) {
      return new long[0];
    }
    List<String> pieces = concat.get().inputs();
    long[] shape = new long[pieces.size()];
    for (int i = 0; i < shape.length; i++) {
      shape[i] = graph.constant(pieces.get(i))
          .filter(t -> t.dataType() == OnnxGraph.INT64 && t.elementCount() == 1)
          .map(t -> t.int64Data()[0])
          .orElse(Long.MIN_VALUE);
    }
    return shape;
  }

  private static double layerNormEps(OnnxGraph graph) {
    Set<Double> found = new TreeSet<>();
    for (Node n : graph.nodes()) {
      if (n.opType().equals("LayerNormalization")) {
        found.add(n.attribute("epsilon").map(a -> exact(a.f())).orElse(ONNX_LAYER_NORM_EPS));
      } else if (n.opType().equals("Sqrt")) {
        // Decomposed LayerNorm: ReduceMean(x^2) + eps feeds the Sqrt.
        graph.producer(n.inputs().get(0))
            .filter(add -> add.opType().equals("Add") && add.inputs().stream().anyMatch(
                in -> graph.producer(in).filter(p -> p.opType().equals("ReduceMean")).isPresent()))
            .map(add -> scalarOperand(graph, add))
            .filter(OptionalDouble::isPresent)
            .ifPresent(eps -> found.add(eps.getAsDouble()));
      }
    }
    if (found.size() > 1) {
      throw new ModelFormatException(graph.source(), "its LayerNorms use different epsilons " + found
          + ", which a BertConfig cannot express");
    }
    return found.isEmpty() ? DEFAULT_LAYER_NORM_EPS : found.iterator().next();
  }

  private static HiddenActivation activation(OnnxGraph graph) {
    List<Node> nodes = graph.nodes();
    if (nodes.stream().anyMatch(n -> n.opType().equals("Erf"))) {
      return HiddenActivation.GELU;
    }
    Optional<Node> gelu = nodes.stream().filter(n -> n.opType().equals("Gelu")).findFirst();
    if (gelu.isPresent()) {
      boolean tanh = gelu.get().attribute("approximate").map(Attribute::s).filter("tanh"::equals).isPresent();
      return tanh ? HiddenActivation.GELU_TANH : HiddenActivation.GELU;
    }
    if (nodes.stream().anyMatch(n -> n.opType().equals("Tanh") && n.name().contains("/intermediate/"))) {
      return HiddenActivation.GELU_TANH;
    }
    if (nodes.stream().anyMatch(n -> n.opType().equals("Relu"))) {
      return HiddenActivation.RELU;
    }
    throw new ModelFormatException(graph.source(), "cannot tell the hidden activation: the graph has no Erf,"
        + " Gelu, Relu, or Tanh in an intermediate layer");
  }

  /** The value of a binary node's scalar float constant operand, when exactly one operand is one. */
  private static OptionalDouble scalarOperand(OnnxGraph graph, Node node) {
    if (node.inputs().size() != 2) {
      return OptionalDouble.empty();
    }
    Optional<OnnxTensor> a = scalarFloat(graph, node.inputs().get(0));
    Optional<OnnxTensor> b = scalarFloat(graph, node.inputs().get(1));
    if (a.isPresent() == b.isPresent()) {
      return OptionalDouble.empty();
    }
    return OptionalDouble.of(exact(a.or(() -> b).get().floatData()[0]));
  }

  private static Optional<OnnxTensor> scalarFloat(OnnxGraph graph, String value) {
    return graph.constant(value).filter(t -> t.dataType() == OnnxGraph.FLOAT && t.elementCount() == 1);
  }

  /** Widens a float to the double with the same shortest decimal form, so 1e-12f is written as 1.0E-12. */
  private static double exact(float f) {
    return Double.parseDouble(Float.toString(f));
  }
}

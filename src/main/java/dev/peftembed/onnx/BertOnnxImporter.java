package dev.peftembed.onnx;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.peftembed.model.ModelFormatException;
import dev.peftembed.model.SafetensorsWriter;
import dev.peftembed.model.SafetensorsWriter.Entry;
import dev.peftembed.onnx.OnnxGraph.Attribute;
import dev.peftembed.onnx.OnnxGraph.Node;
import dev.peftembed.onnx.OnnxGraph.OnnxTensor;
import java.io.IOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns a BERT-family ONNX export (as produced by {@code torch.onnx.export} of a Hugging Face {@code BertModel})
 * into a sentence-transformers model directory: {@code model.safetensors} under Hugging Face parameter names, a
 * {@code config.json} derived from the graph, the tokenizer, and the pooling and normalization modules.
 *
 * <p>The exporter keeps parameter names for most initializers but constant-folds each linear layer's transposed
 * weight into an anonymous {@code onnx::MatMul_N} tensor of shape {@code [in, out]}. Those are named after the
 * MatMul node that reads them ({@code /encoder/layer.0/attention/self/query/MatMul} gives
 * {@code encoder.layer.0.attention.self.query.weight}) and transposed back to {@code [out, in]}.
 */
public final class BertOnnxImporter {

  private static final Logger LOG = LoggerFactory.getLogger(BertOnnxImporter.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Dotted parameter names as PyTorch writes them; anonymous tensors ({@code onnx::X}, {@code /a/b}) fail it. */
  private static final Pattern PARAMETER_NAME = Pattern.compile("[A-Za-z_]\\w*(\\.\\w+)*");
  /** A MatMul node named after its module path, with the exporter's optional de-duplication suffix. */
  private static final Pattern MATMUL_NODE = Pattern.compile("/(.+)/MatMul(_\\d+)?");
  private static final Pattern LAYER_INDEX = Pattern.compile("encoder\\.layer\\.(\\d+)\\..*");
  private static final String SELF_ATTENTION_SCOPE = "/encoder/layer.0/attention/self/";
  /** What {@code BertConfig} assumes when the graph has no LayerNorm to read it from. */
  private static final double DEFAULT_LAYER_NORM_EPS = 1e-12;
  /** The ONNX default of {@code LayerNormalization}'s {@code epsilon} attribute. */
  private static final double ONNX_LAYER_NORM_EPS = 1e-5;

  private BertOnnxImporter() {}

  /**
   * Imports a BERT-family ONNX model as a sentence-transformers model directory.
   *
   * <p>The directory is assembled next to {@code outputDir} and renamed into place only when complete, so a
   * failed or interrupted import never leaves a half-written model behind.
   *
   * @param onnxFile the {@code .onnx} export, with all weights inside the file
   * @param tokenizerJson the model's Hugging Face {@code tokenizer.json}, copied as is
   * @param options pooling, normalization, sequence length and an optional head count
   * @param outputDir the directory to create; it may exist only if empty
   * @throws IOException if a file cannot be read or written, or {@code outputDir} exists and is not empty
   * @throws ModelFormatException if the ONNX file is malformed or not a BERT-style encoder, or the tokenizer is not
   *     JSON
   * @throws IllegalArgumentException if the options do not fit the model
   */
  public static void importModel(Path onnxFile, Path tokenizerJson, ImportOptions options, Path outputDir)
      throws IOException {
    long start = System.nanoTime();
    Path target = outputDir.toAbsolutePath().normalize();
    requireEmptyOrAbsent(target);
    requireJson(tokenizerJson);

    OnnxGraph graph = OnnxGraph.read(onnxFile);
    SortedMap<String, Entry> weights = extractWeights(graph);
    BertConfig config = BertConfig.derive(graph, weights, options.numAttentionHeads());
    if (options.maxSeqLength() > config.maxPositions()) {
      throw new IllegalArgumentException("max sequence length " + options.maxSeqLength() + " exceeds the "
          + config.maxPositions() + " position embeddings of " + onnxFile);
    }

    Files.createDirectories(target.getParent());
    Path staging = target.resolveSibling(
        "." + target.getFileName() + ".importing-" + Long.toHexString(ThreadLocalRandom.current().nextLong()));
    Files.createDirectory(staging);
    try {
      writeModelDirectory(staging, weights, config, tokenizerJson, options);
      publish(staging, target);
    } catch (IOException | RuntimeException e) {
      deleteRecursively(staging);
      throw e;
    }

    long parameters = weights.values().stream().mapToLong(e -> e.data().length).sum();
    LOG.info("Imported {} into {}: {}-layer BERT, hidden {}, {} heads, intermediate {}, {}, eps {}; {} tensors,"
            + " {} parameters; {} pooling{}, max {} tokens; {} ms",
        onnxFile, target, config.layers(), config.hidden(), config.heads(), config.intermediate(),
        config.activation(), config.layerNormEps(), weights.size(), parameters, options.pooling(),
        options.normalize() ? ", normalized" : "", options.maxSeqLength(), (System.nanoTime() - start) / 1_000_000);
  }

  /**
   * Collects the float weights under their Hugging Face names: named initializers as they are, anonymous MatMul
   * weights named after their node and transposed to {@code [out, in]}. Integer buffers and anonymous constants
   * are not weights and are left out.
   */
  private static SortedMap<String, Entry> extractWeights(OnnxGraph graph) {
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

  private static void writeModelDirectory(
      Path dir, SortedMap<String, Entry> weights, BertConfig config, Path tokenizerJson, ImportOptions options)
      throws IOException {
    SafetensorsWriter.write(dir.resolve("model.safetensors"), weights);
    writeJson(dir.resolve("config.json"), config.toJson());
    Files.copy(tokenizerJson, dir.resolve("tokenizer.json"));

    ObjectNode st = JSON.createObjectNode();
    st.put("max_seq_length", options.maxSeqLength());
    st.put("do_lower_case", false);
    writeJson(dir.resolve("sentence_bert_config.json"), st);

    ArrayNode modules = JSON.createArrayNode();
    addModule(modules, "", "sentence_transformers.models.Transformer");
    addModule(modules, "1_Pooling", "sentence_transformers.models.Pooling");
    Files.createDirectory(dir.resolve("1_Pooling"));
    writeJson(dir.resolve("1_Pooling/config.json"), poolingConfig(config.hidden(), options.pooling()));
    if (options.normalize()) {
      addModule(modules, "2_Normalize", "sentence_transformers.models.Normalize");
      Files.createDirectory(dir.resolve("2_Normalize"));
    }
    writeJson(dir.resolve("modules.json"), modules);
  }

  private static void addModule(ArrayNode modules, String path, String type) {
    int idx = modules.size();
    modules.addObject().put("idx", idx).put("name", Integer.toString(idx)).put("path", path).put("type", type);
  }

  private static ObjectNode poolingConfig(int dimension, String pooling) {
    ObjectNode node = JSON.createObjectNode();
    node.put("word_embedding_dimension", dimension);
    node.put("pooling_mode_cls_token", pooling.equals("cls"));
    node.put("pooling_mode_mean_tokens", pooling.equals("mean"));
    node.put("pooling_mode_max_tokens", pooling.equals("max"));
    node.put("pooling_mode_mean_sqrt_len_tokens", pooling.equals("mean_sqrt_len"));
    node.put("pooling_mode_weightedmean_tokens", pooling.equals("weightedmean"));
    node.put("pooling_mode_lasttoken", pooling.equals("lasttoken"));
    node.put("include_prompt", true);
    return node;
  }

  private static void writeJson(Path file, JsonNode node) throws IOException {
    Files.writeString(file, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(node) + "\n");
  }

  private static void requireJson(Path file) throws IOException {
    JsonNode tree;
    try {
      tree = JSON.readTree(file.toFile());
    } catch (JsonProcessingException e) {
      throw new ModelFormatException(file, "not valid JSON: " + e.getOriginalMessage(), e);
    }
    if (!tree.isObject()) {
      throw new ModelFormatException(file, "expected a JSON object, as in a Hugging Face tokenizer.json");
    }
  }

  private static void requireEmptyOrAbsent(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    if (!Files.isDirectory(dir)) {
      throw new FileAlreadyExistsException(dir.toString(), null, "exists and is not a directory");
    }
    try (Stream<Path> entries = Files.list(dir)) {
      if (entries.findAny().isPresent()) {
        throw new DirectoryNotEmptyException(dir.toString());
      }
    }
  }

  private static void publish(Path staging, Path target) throws IOException {
    // An empty directory left there, e.g. by `mkdir`, is replaced; rename(2) cannot replace a non-empty one.
    if (Files.isDirectory(target)) {
      requireEmptyOrAbsent(target);
      Files.delete(target);
    }
    Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
  }

  private static void deleteRecursively(Path dir) {
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      LOG.warn("Could not remove the partial import {}: {}", dir, e.toString());
    }
  }

  /** The {@code BertConfig} values that the graph determines. */
  private record BertConfig(
      int hidden,
      int layers,
      int heads,
      int intermediate,
      int maxPositions,
      int vocab,
      int typeVocab,
      double layerNormEps,
      String activation) {

    static BertConfig derive(OnnxGraph graph, SortedMap<String, Entry> weights, Integer headsOverride) {
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
      int layers = countLayers(weights, source);
      int intermediate = (int) shapeOf(weights, "encoder.layer.0.intermediate.dense.weight", source)[0];
      requireBertWeights(weights, hidden, layers, intermediate, vocab, maxPositions, typeVocab, source);
      return new BertConfig(hidden, layers, heads(graph, hidden, headsOverride), intermediate, maxPositions, vocab,
          typeVocab, layerNormEps(graph), activation(graph));
    }

    ObjectNode toJson() {
      ObjectNode node = JSON.createObjectNode();
      node.putArray("architectures").add("BertModel");
      node.put("model_type", "bert");
      node.put("hidden_size", hidden);
      node.put("num_hidden_layers", layers);
      node.put("num_attention_heads", heads);
      node.put("intermediate_size", intermediate);
      node.put("max_position_embeddings", maxPositions);
      node.put("vocab_size", vocab);
      node.put("type_vocab_size", typeVocab);
      node.put("layer_norm_eps", layerNormEps);
      node.put("hidden_act", activation);
      node.put("pad_token_id", 0);
      return node;
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

    private static void requireBertWeights(SortedMap<String, Entry> weights, int hidden, int layers,
        int intermediate, int vocab, int maxPositions, int typeVocab, Path source) {
      Map<String, long[]> expected = new LinkedHashMap<>();
      expected.put("embeddings.word_embeddings.weight", new long[] {vocab, hidden});
      expected.put("embeddings.position_embeddings.weight", new long[] {maxPositions, hidden});
      expected.put("embeddings.token_type_embeddings.weight", new long[] {typeVocab, hidden});
      expected.put("embeddings.LayerNorm.weight", new long[] {hidden});
      expected.put("embeddings.LayerNorm.bias", new long[] {hidden});
      for (int l = 0; l < layers; l++) {
        String p = "encoder.layer." + l + ".";
        for (String proj : List.of("attention.self.query", "attention.self.key", "attention.self.value",
            "attention.output.dense")) {
          expected.put(p + proj + ".weight", new long[] {hidden, hidden});
          expected.put(p + proj + ".bias", new long[] {hidden});
        }
        expected.put(p + "intermediate.dense.weight", new long[] {intermediate, hidden});
        expected.put(p + "intermediate.dense.bias", new long[] {intermediate});
        expected.put(p + "output.dense.weight", new long[] {hidden, intermediate});
        expected.put(p + "output.dense.bias", new long[] {hidden});
        for (String norm : List.of("attention.output.LayerNorm", "output.LayerNorm")) {
          expected.put(p + norm + ".weight", new long[] {hidden});
          expected.put(p + norm + ".bias", new long[] {hidden});
        }
      }
      for (Map.Entry<String, long[]> e : expected.entrySet()) {
        Entry actual = weights.get(e.getKey());
        if (actual == null) {
          throw new ModelFormatException(source, "has no weight '" + e.getKey() + "'; is it a BERT-style encoder"
              + " export?");
        }
        if (!Arrays.equals(actual.shape(), e.getValue())) {
          throw new ModelFormatException(source, "weight '" + e.getKey() + "' has shape "
              + Arrays.toString(actual.shape()) + ", expected " + Arrays.toString(e.getValue()));
        }
      }
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

    private static String activation(OnnxGraph graph) {
      List<Node> nodes = graph.nodes();
      if (nodes.stream().anyMatch(n -> n.opType().equals("Erf"))) {
        return "gelu";
      }
      Optional<Node> gelu = nodes.stream().filter(n -> n.opType().equals("Gelu")).findFirst();
      if (gelu.isPresent()) {
        boolean tanh = gelu.get().attribute("approximate").map(Attribute::s).filter("tanh"::equals).isPresent();
        return tanh ? "gelu_new" : "gelu";
      }
      if (nodes.stream().anyMatch(n -> n.opType().equals("Tanh") && n.name().contains("/intermediate/"))) {
        return "gelu_new";
      }
      if (nodes.stream().anyMatch(n -> n.opType().equals("Relu"))) {
        return "relu";
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
}

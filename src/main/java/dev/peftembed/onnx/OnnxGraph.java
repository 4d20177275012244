package dev.peftembed.onnx;

import dev.peftembed.model.ModelFormatException;
import dev.peftembed.onnx.ProtoReader.MalformedProtoException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.LongStream;

/**
 * The main graph of an ONNX model: its initializers and nodes, read straight from the protobuf encoding.
 *
 * <p>Only what weight extraction and architecture detection need is decoded: tensor names, shapes, types and
 * float/int64 data; node names, operators, wiring and attributes. Sub-graphs, value infos and metadata are skipped.
 * Tensor data stays in the file's bytes and is decoded on request, so a graph costs little more memory than its file.
 */
public final class OnnxGraph {

  /** ONNX {@code TensorProto.DataType} of 32-bit floats. */
  public static final int FLOAT = 1;
  /** ONNX {@code TensorProto.DataType} of 64-bit signed integers. */
  public static final int INT64 = 7;

  // Field numbers from onnx.proto.
  private static final int MODEL_GRAPH = 7;
  private static final int GRAPH_NODE = 1;
  private static final int GRAPH_INITIALIZER = 5;
  private static final int NODE_INPUT = 1;
  private static final int NODE_OUTPUT = 2;
  private static final int NODE_NAME = 3;
  private static final int NODE_OP_TYPE = 4;
  private static final int NODE_ATTRIBUTE = 5;
  private static final int ATTR_NAME = 1;
  private static final int ATTR_F = 2;
  private static final int ATTR_I = 3;
  private static final int ATTR_S = 4;
  private static final int ATTR_T = 5;
  private static final int ATTR_FLOATS = 7;
  private static final int ATTR_INTS = 8;
  private static final int TENSOR_DIMS = 1;
  private static final int TENSOR_DATA_TYPE = 2;
  private static final int TENSOR_FLOAT_DATA = 4;
  private static final int TENSOR_INT64_DATA = 7;
  private static final int TENSOR_NAME = 8;
  private static final int TENSOR_RAW_DATA = 9;
  private static final int TENSOR_EXTERNAL_DATA = 13;
  private static final int TENSOR_DATA_LOCATION = 14;
  private static final int DATA_LOCATION_EXTERNAL = 1;

  private static final String[] TYPE_NAMES = {
    "UNDEFINED", "FLOAT", "UINT8", "INT8", "UINT16", "INT16", "INT32", "INT64", "STRING", "BOOL", "FLOAT16",
    "DOUBLE", "UINT32", "UINT64", "COMPLEX64", "COMPLEX128", "BFLOAT16"
  };

  private final Path source;
  private final List<OnnxTensor> initializers;
  private final Map<String, OnnxTensor> initializersByName = new HashMap<>();
  private final List<Node> nodes;
  private final Map<String, Node> producers = new HashMap<>();

  private OnnxGraph(Path source, List<OnnxTensor> initializers, List<Node> nodes) {
    this.source = source;
    this.initializers = List.copyOf(initializers);
    this.nodes = List.copyOf(nodes);
    for (OnnxTensor t : initializers) {
      initializersByName.put(t.name(), t);
    }
    for (Node n : nodes) {
      for (String out : n.outputs()) {
        producers.put(out, n);
      }
    }
  }

  /**
   * Reads the graph of an ONNX model file.
   *
   * @param file a {@code .onnx} file with all tensor data inside it
   * @return the parsed graph
   * @throws IOException if the file cannot be read
   * @throws ModelFormatException if the file is not a well-formed ONNX model, or keeps tensor data in external files
   */
  public static OnnxGraph read(Path file) throws IOException {
    long size = Files.size(file);
    // Protobuf messages are capped at 2 GiB, which is why larger models move their weights to external files.
    if (size > Integer.MAX_VALUE - 8) {
      throw new ModelFormatException(file, "is " + size + " bytes, more than a single ONNX protobuf can hold");
    }
    return parse(ByteBuffer.wrap(Files.readAllBytes(file)), file);
  }

  /**
   * Parses an encoded {@code ModelProto}.
   *
   * @param model the encoded model; it must not be modified while the graph is in use, since tensor data is read
   *     from it lazily
   * @param source the file the bytes came from, named in error messages
   * @return the parsed graph
   * @throws ModelFormatException if the bytes are not a well-formed ONNX model
   */
  public static OnnxGraph parse(ByteBuffer model, Path source) {
    try {
      ProtoReader reader = ProtoReader.of(model);
      OnnxGraph graph = null;
      while (reader.next()) {
        if (reader.fieldNumber() == MODEL_GRAPH) {
          graph = parseGraph(reader.readMessage(), source);
        } else {
          reader.skip();
        }
      }
      if (graph == null) {
        throw new ModelFormatException(source, "not an ONNX model: it has no graph");
      }
      return graph;
    } catch (MalformedProtoException e) {
      throw new ModelFormatException(source, "not a valid ONNX protobuf: " + e.getMessage(), e);
    }
  }

  /** @return the file this graph was read from */
  public Path source() {
    return source;
  }

  /** @return the initializers in file order */
  public List<OnnxTensor> initializers() {
    return initializers;
  }

  /**
   * @param name a graph value name
   * @return the initializer of that name, if any
   */
  public Optional<OnnxTensor> initializer(String name) {
    return Optional.ofNullable(initializersByName.get(name));
  }

  /** @return the nodes in file order, which ONNX requires to be topologically sorted */
  public List<Node> nodes() {
    return nodes;
  }

  /**
   * @param value a graph value name
   * @return the node that computes it; empty for graph inputs and initializers
   */
  public Optional<Node> producer(String value) {
    return Optional.ofNullable(producers.get(value));
  }

  /**
   * Resolves a value that is fixed when the graph is built: an initializer, or the output of a {@code Constant}
   * node.
   *
   * @param value a graph value name
   * @return its tensor, or empty if it is computed at run time
   */
  public Optional<OnnxTensor> constant(String value) {
    OnnxTensor init = initializersByName.get(value);
    if (init != null) {
      return Optional.of(init);
    }
    Node node = producers.get(value);
    if (node == null || !node.opType().equals("Constant")) {
      return Optional.empty();
    }
    for (Attribute a : node.attributes().values()) {
      switch (a.name()) {
        case "value":
          return Optional.ofNullable(a.t());
        case "value_float":
          return Optional.of(OnnxTensor.ofFloats(value, new long[0], new float[] {a.f()}));
        case "value_floats":
          return Optional.of(OnnxTensor.ofFloats(value, new long[] {a.floats().length}, a.floats()));
        case "value_int":
          return Optional.of(OnnxTensor.ofLongs(value, new long[0], new long[] {a.i()}));
        case "value_ints":
          return Optional.of(OnnxTensor.ofLongs(value, new long[] {a.ints().length}, a.ints()));
        default:
          break;
      }
    }
    return Optional.empty();
  }

  /**
   * @param dataType an ONNX {@code TensorProto.DataType} code
   * @return its name, e.g. {@code FLOAT16}
   */
  public static String dataTypeName(int dataType) {
    return dataType >= 0 && dataType < TYPE_NAMES.length ? TYPE_NAMES[dataType] : "type " + dataType;
  }

  private static OnnxGraph parseGraph(ProtoReader reader, Path source) {
    List<OnnxTensor> initializers = new ArrayList<>();
    List<Node> nodes = new ArrayList<>();
    while (reader.next()) {
      switch (reader.fieldNumber()) {
        case GRAPH_NODE -> nodes.add(parseNode(reader.readMessage(), source));
        case GRAPH_INITIALIZER -> initializers.add(parseTensor(reader.readMessage(), source));
        default -> reader.skip();
      }
    }
    return new OnnxGraph(source, initializers, nodes);
  }

  private static Node parseNode(ProtoReader reader, Path source) {
    String name = "";
    String opType = "";
    List<String> inputs = new ArrayList<>();
    List<String> outputs = new ArrayList<>();
    Map<String, Attribute> attributes = new LinkedHashMap<>();
    while (reader.next()) {
      switch (reader.fieldNumber()) {
        case NODE_INPUT -> inputs.add(reader.readString());
        case NODE_OUTPUT -> outputs.add(reader.readString());
        case NODE_NAME -> name = reader.readString();
        case NODE_OP_TYPE -> opType = reader.readString();
        case NODE_ATTRIBUTE -> {
          Attribute a = parseAttribute(reader.readMessage(), source);
          attributes.put(a.name(), a);
        }
        default -> reader.skip();
      }
    }
    return new Node(name, opType, inputs, outputs, attributes);
  }

  private static Attribute parseAttribute(ProtoReader reader, Path source) {
    String name = "";
    float f = 0;
    long i = 0;
    String s = null;
    OnnxTensor t = null;
    FloatList floats = new FloatList();
    LongStream.Builder ints = LongStream.builder();
    while (reader.next()) {
      switch (reader.fieldNumber()) {
        case ATTR_NAME -> name = reader.readString();
        case ATTR_F -> f = reader.readFloat();
        case ATTR_I -> i = reader.readVarint();
        case ATTR_S -> s = reader.readString();
        case ATTR_T -> t = parseTensor(reader.readMessage(), source);
        case ATTR_FLOATS -> reader.readRepeatedFixed32(bits -> floats.add(Float.intBitsToFloat(bits)));
        case ATTR_INTS -> reader.readRepeatedVarint(ints);
        default -> reader.skip();
      }
    }
    return new Attribute(name, f, i, s, t, floats.toArray(), ints.build().toArray());
  }

  private static OnnxTensor parseTensor(ProtoReader reader, Path source) {
    String name = "";
    int dataType = 0;
    LongStream.Builder dims = LongStream.builder();
    ByteBuffer raw = null;
    FloatList floats = new FloatList();
    LongStream.Builder longs = LongStream.builder();
    boolean external = false;
    while (reader.next()) {
      switch (reader.fieldNumber()) {
        case TENSOR_DIMS -> reader.readRepeatedVarint(dims);
        case TENSOR_DATA_TYPE -> dataType = reader.readInt32();
        case TENSOR_FLOAT_DATA -> reader.readRepeatedFixed32(bits -> floats.add(Float.intBitsToFloat(bits)));
        case TENSOR_INT64_DATA -> reader.readRepeatedVarint(longs);
        case TENSOR_NAME -> name = reader.readString();
        case TENSOR_RAW_DATA -> raw = reader.readBytes();
        case TENSOR_EXTERNAL_DATA -> {
          external = true;
          reader.skip();
        }
        case TENSOR_DATA_LOCATION -> external |= reader.readVarint() == DATA_LOCATION_EXTERNAL;
        default -> reader.skip();
      }
    }
    if (external) {
      throw new ModelFormatException(source, "tensor '" + name + "' keeps its data in an external file"
          + " (data_location EXTERNAL), which is not supported; export the model with all weights inside the"
          + " .onnx file");
    }
    long[] shape = dims.build().toArray();
    long count = elementCount(shape, name, source);
    Object data = switch (dataType) {
      case FLOAT -> raw != null ? checkRaw(raw, count, Float.BYTES, name, source)
          : checkTyped(floats.toArray(), floats.size(), count, name, source);
      case INT64 -> {
        long[] typed = longs.build().toArray();
        yield raw != null ? checkRaw(raw, count, Long.BYTES, name, source)
            : checkTyped(typed, typed.length, count, name, source);
      }
      // Other types are kept only as names and shapes; nothing downstream reads their values.
      default -> null;
    };
    return new OnnxTensor(name, shape, dataType, data);
  }

  private static long elementCount(long[] shape, String name, Path source) {
    long count = 1;
    for (long d : shape) {
      if (d < 0) {
        throw new ModelFormatException(source, "tensor '" + name + "' has negative dimension " + d);
      }
      try {
        count = Math.multiplyExact(count, d);
      } catch (ArithmeticException e) {
        throw new ModelFormatException(source, "tensor '" + name + "' has an impossible shape "
            + Arrays.toString(shape));
      }
    }
    return count;
  }

  private static ByteBuffer checkRaw(ByteBuffer raw, long count, int elementSize, String name, Path source) {
    if (raw.remaining() != count * elementSize) {
      throw new ModelFormatException(source, "tensor '" + name + "' has " + raw.remaining()
          + " bytes of raw data, expected " + count * elementSize);
    }
    return raw;
  }

  private static Object checkTyped(Object values, int length, long count, String name, Path source) {
    if (length != count) {
      throw new ModelFormatException(source, "tensor '" + name + "' has " + length + " values, expected "
          + count);
    }
    return values;
  }

  /**
   * A tensor stored in the graph: an initializer or a constant attribute.
   *
   * <p>Values of FLOAT and INT64 tensors are decoded on request; other types expose only name, type and shape.
   */
  public static final class OnnxTensor {
    private final String name;
    private final long[] dims;
    private final int dataType;
    /** Little-endian raw bytes, or a float[]/long[] from the typed fields, or null for undecoded types. */
    private final Object data;

    private OnnxTensor(String name, long[] dims, int dataType, Object data) {
      this.name = name;
      this.dims = dims;
      this.dataType = dataType;
      this.data = data;
    }

    static OnnxTensor ofFloats(String name, long[] dims, float[] values) {
      return new OnnxTensor(name, dims, FLOAT, values);
    }

    static OnnxTensor ofLongs(String name, long[] dims, long[] values) {
      return new OnnxTensor(name, dims, INT64, values);
    }

    /** @return the tensor's name; for a {@code Constant} node's value, the name of the node's output */
    public String name() {
      return name;
    }

    /** @return a copy of the dimensions; empty for a scalar */
    public long[] dims() {
      return dims.clone();
    }

    /** @return the ONNX {@code TensorProto.DataType} code, e.g. {@link #FLOAT} */
    public int dataType() {
      return dataType;
    }

    /** @return the number of elements: the product of the dimensions, 1 for a scalar */
    public long elementCount() {
      long n = 1;
      for (long d : dims) {
        n *= d;
      }
      return n;
    }

    /**
     * @return a fresh array of the values in row-major order
     * @throws IllegalStateException if the tensor is not {@link #FLOAT}
     */
    public float[] floatData() {
      requireType(FLOAT);
      if (data instanceof float[] values) {
        return values.clone();
      }
      ByteBuffer raw = ((ByteBuffer) data).duplicate().order(ByteOrder.LITTLE_ENDIAN);
      float[] values = new float[raw.remaining() / Float.BYTES];
      raw.asFloatBuffer().get(values);
      return values;
    }

    /**
     * @return a fresh array of the values in row-major order
     * @throws IllegalStateException if the tensor is not {@link #INT64}
     */
    public long[] int64Data() {
      requireType(INT64);
      if (data instanceof long[] values) {
        return values.clone();
      }
      ByteBuffer raw = ((ByteBuffer) data).duplicate().order(ByteOrder.LITTLE_ENDIAN);
      long[] values = new long[raw.remaining() / Long.BYTES];
      raw.asLongBuffer().get(values);
      return values;
    }

    private void requireType(int expected) {
      if (dataType != expected) {
        throw new IllegalStateException("tensor '" + name + "' is " + dataTypeName(dataType) + ", not "
            + dataTypeName(expected));
      }
    }

    @Override
    public String toString() {
      return name + " " + dataTypeName(dataType) + Arrays.toString(dims);
    }
  }

  /**
   * One operator application.
   *
   * @param name the node name, e.g. {@code /encoder/layer.0/attention/self/query/MatMul}; may be empty
   * @param opType the operator, e.g. {@code MatMul}
   * @param inputs input value names in operator order; an empty string marks an omitted optional input
   * @param outputs output value names
   * @param attributes attributes by name
   */
  public record Node(
      String name, String opType, List<String> inputs, List<String> outputs, Map<String, Attribute> attributes) {

    /** Makes the collections unmodifiable. */
    public Node {
      inputs = List.copyOf(inputs);
      outputs = List.copyOf(outputs);
      attributes = Collections.unmodifiableMap(new LinkedHashMap<>(attributes));
    }

    /**
     * @param name an attribute name
     * @return the attribute, if the node has it
     */
    public Optional<Attribute> attribute(String name) {
      return Optional.ofNullable(attributes.get(name));
    }
  }

  /**
   * A node attribute; only the fields matching its type are meaningful.
   *
   * @param name the attribute name
   * @param f a float value
   * @param i an int value
   * @param s a string value, or null
   * @param t a tensor value ({@code Constant} nodes keep theirs here), or null
   * @param floats a list of floats
   * @param ints a list of ints
   */
  public record Attribute(String name, float f, long i, String s, OnnxTensor t, float[] floats, long[] ints) {}

  /** A growable float array, since typed float fields arrive one value at a time when not packed. */
  private static final class FloatList {
    private float[] values = new float[0];
    private int size;

    void add(float v) {
      if (size == values.length) {
        values = Arrays.copyOf(values, Math.max(8, size * 2));
      }
      values[size++] = v;
    }

    int size() {
      return size;
    }

    float[] toArray() {
      return Arrays.copyOf(values, size);
    }
  }
}

package dev.peftembed.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The index of one safetensors file: its header, validated in full before any tensor is read.
 *
 * <p>The format is an 8-byte little-endian header length, a JSON header mapping names to dtype, shape and byte
 * offsets, then raw little-endian data. Every number taken from the header is bounded by the file's real size, so a
 * corrupt or hostile file gives a {@link ModelFormatException}, never a huge allocation or a native crash. Nothing
 * is unpickled: safetensors carries no code.
 */
public final class SafetensorsFile {
  /** Headers are a few hundred KB even for large checkpoints; anything beyond this is corrupt. */
  static final long MAX_HEADER_BYTES = 100L << 20;

  /** Tensors read as weights must fit a Java array. */
  private static final long MAX_TENSOR_ELEMENTS = Integer.MAX_VALUE - 8;

  /** Bytes per element of every dtype safetensors defines; reading as weights is limited to {@link DType}. */
  private static final Map<String, Integer> ELEMENT_BYTES = Map.ofEntries(
      Map.entry("F64", 8), Map.entry("F32", 4), Map.entry("F16", 2), Map.entry("BF16", 2),
      Map.entry("I64", 8), Map.entry("I32", 4), Map.entry("I16", 2), Map.entry("I8", 1),
      Map.entry("U64", 8), Map.entry("U32", 4), Map.entry("U16", 2), Map.entry("U8", 1),
      Map.entry("BOOL", 1), Map.entry("F8_E4M3", 1), Map.entry("F8_E5M2", 1));

  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * One entry of the header.
   *
   * @param name the tensor key
   * @param dtype the stored dtype, as the header spells it
   * @param shape the dimensions
   * @param begin first byte, relative to the data section
   * @param end one past the last byte, relative to the data section
   */
  public record Entry(String name, String dtype, long[] shape, long begin, long end) {}

  private final Path path;
  private final long dataStart;
  private final Map<String, Entry> entries;

  private SafetensorsFile(Path path, long dataStart, Map<String, Entry> entries) {
    this.path = path;
    this.dataStart = dataStart;
    this.entries = entries;
  }

  /**
   * Reads and validates the header of {@code path}.
   *
   * @throws ModelFormatException if the file is missing, truncated or inconsistent
   */
  public static SafetensorsFile open(Path path) {
    if (!Files.isRegularFile(path)) {
      throw new ModelFormatException(path, "file not found (expected a safetensors file)");
    }
    try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
      long fileSize = ch.size();
      if (fileSize < 8) {
        throw new ModelFormatException(path, "truncated safetensors file: " + fileSize + " bytes, expected at least 8");
      }
      ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      readFully(ch, lenBuf, 0, path);
      long headerLen = lenBuf.flip().getLong();
      if (headerLen < 2 || headerLen > MAX_HEADER_BYTES || headerLen > fileSize - 8) {
        throw new ModelFormatException(path, "safetensors header length " + Long.toUnsignedString(headerLen)
            + " is out of range (file has " + fileSize + " bytes; at most " + MAX_HEADER_BYTES + " allowed)");
      }
      ByteBuffer header = ByteBuffer.allocate((int) headerLen);
      readFully(ch, header, 8, path);
      long dataStart = 8 + headerLen;
      Map<String, Entry> entries = parseHeader(path, new String(header.array(), StandardCharsets.UTF_8),
          fileSize - dataStart);
      return new SafetensorsFile(path, dataStart, entries);
    } catch (IOException e) {
      throw new ModelFormatException(path, "cannot read safetensors file: " + e.getMessage(), e);
    }
  }

  private static Map<String, Entry> parseHeader(Path path, String text, long dataSize) {
    JsonNode root;
    try {
      root = JSON.readTree(text);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new ModelFormatException(path, "safetensors header is not valid JSON (" + e.getOriginalMessage() + ")");
    }
    if (root == null || !root.isObject()) {
      throw new ModelFormatException(path, "safetensors header must be a JSON object");
    }
    Map<String, Entry> entries = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> field = it.next();
      if (field.getKey().equals("__metadata__")) {
        continue;
      }
      entries.put(field.getKey(), parseEntry(path, field.getKey(), field.getValue(), dataSize));
    }
    checkNoOverlap(path, entries.values());
    return Collections.unmodifiableMap(entries);
  }

  private static Entry parseEntry(Path path, String name, JsonNode node, long dataSize) {
    String where = "tensor \"" + name + "\": ";
    JsonNode dtypeNode = node.get("dtype");
    JsonNode shapeNode = node.get("shape");
    JsonNode offsetsNode = node.get("data_offsets");
    if (dtypeNode == null || !dtypeNode.isTextual() || shapeNode == null || !shapeNode.isArray()
        || offsetsNode == null || !offsetsNode.isArray() || offsetsNode.size() != 2) {
      throw new ModelFormatException(path, where + "expected {\"dtype\", \"shape\", \"data_offsets\": [begin, end]}");
    }
    String dtype = dtypeNode.asText();
    Integer elementBytes = ELEMENT_BYTES.get(dtype);
    if (elementBytes == null) {
      throw new ModelFormatException(path, where + "unknown dtype \"" + dtype + "\" (expected one of "
          + String.join(", ", ELEMENT_BYTES.keySet().stream().sorted().toList()) + ")");
    }
    long[] shape = new long[shapeNode.size()];
    long count = 1;
    for (int i = 0; i < shape.length; i++) {
      JsonNode d = shapeNode.get(i);
      if (!d.canConvertToLong() || d.asLong() < 0) {
        throw new ModelFormatException(path, where + "shape dimension " + d + " is not a non-negative integer");
      }
      shape[i] = d.asLong();
      if (shape[i] != 0 && count > dataSize / shape[i]) {
        throw new ModelFormatException(path, where + "shape " + shapeNode + " is larger than the file");
      }
      count *= shape[i];
    }
    JsonNode b = offsetsNode.get(0);
    JsonNode e = offsetsNode.get(1);
    if (!b.canConvertToLong() || !e.canConvertToLong()) {
      throw new ModelFormatException(path, where + "data_offsets must be integers");
    }
    long begin = b.asLong();
    long end = e.asLong();
    if (begin < 0 || end < begin || end > dataSize) {
      throw new ModelFormatException(path, where + "data_offsets [" + begin + ", " + end
          + "] out of range (data section has " + dataSize + " bytes)");
    }
    if (count * elementBytes != end - begin) {
      throw new ModelFormatException(path, where + "data_offsets span " + (end - begin) + " bytes but shape "
          + shapeNode + " of " + dtype + " needs " + count * elementBytes);
    }
    return new Entry(name, dtype, shape, begin, end);
  }

  private static void checkNoOverlap(Path path, java.util.Collection<Entry> entries) {
    List<Entry> sorted = new ArrayList<>(entries);
    sorted.sort(Comparator.comparingLong(Entry::begin));
    for (int i = 1; i < sorted.size(); i++) {
      Entry prev = sorted.get(i - 1);
      Entry cur = sorted.get(i);
      if (cur.begin() < prev.end()) {
        throw new ModelFormatException(path, "tensors \"" + prev.name() + "\" and \"" + cur.name()
            + "\" overlap in the data section");
      }
    }
  }

  /** @return the file this index describes */
  public Path path() {
    return path;
  }

  /** @return the tensor names, in header order */
  public Set<String> names() {
    return entries.keySet();
  }

  /** @return the header entry for {@code name}, or {@code null} */
  public Entry entry(String name) {
    return entries.get(name);
  }

  /**
   * Reads one tensor and widens it to float32.
   *
   * @throws ModelFormatException if the tensor is absent, not a float type, or cannot be read
   */
  public Tensor read(String name) {
    Entry entry = entries.get(name);
    if (entry == null) {
      throw new ModelFormatException(path, "missing tensor \"" + name + "\"");
    }
    DType dtype = DType.fromHeader(entry.dtype()).orElseThrow(() -> new ModelFormatException(path,
        "tensor \"" + name + "\" has dtype " + entry.dtype() + "; expected F32, F16, BF16 or F64"));
    long count = Tensor.elementCount(entry.shape());
    if (count > MAX_TENSOR_ELEMENTS) {
      throw new ModelFormatException(path, "tensor \"" + name + "\" has " + count + " elements; at most "
          + MAX_TENSOR_ELEMENTS + " are supported");
    }
    ByteBuffer bytes = ByteBuffer.allocate((int) (entry.end() - entry.begin())).order(ByteOrder.LITTLE_ENDIAN);
    try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
      readFully(ch, bytes, dataStart + entry.begin(), path);
    } catch (IOException e) {
      throw new ModelFormatException(path, "cannot read tensor \"" + name + "\": " + e.getMessage(), e);
    }
    bytes.flip();
    float[] data = new float[(int) count];
    dtype.read(bytes, data);
    return new Tensor(name, entry.shape(), data);
  }

  private static void readFully(FileChannel ch, ByteBuffer buf, long position, Path path) throws IOException {
    long pos = position;
    while (buf.hasRemaining()) {
      int n = ch.read(buf, pos);
      if (n < 0) {
        throw new ModelFormatException(path, "truncated file: expected " + buf.remaining() + " more bytes at offset "
            + pos);
      }
      pos += n;
    }
  }
}

package dev.peftembed.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Map;
import java.util.SortedMap;

/**
 * Writes float32 tensors in the safetensors format: an 8-byte little-endian header length, a JSON header mapping
 * each name to its dtype, shape and byte range, then the raw little-endian data.
 */
public final class SafetensorsWriter {

  private static final ObjectMapper JSON = new ObjectMapper();
  /** Floats per write; bounds the staging buffer whatever the tensor size. */
  private static final int CHUNK_FLOATS = 1 << 16;

  private SafetensorsWriter() {}

  /**
   * One tensor to write.
   *
   * @param shape the dimensions; empty for a scalar
   * @param data the values in row-major order, {@code product(shape)} of them
   */
  public record Entry(long[] shape, float[] data) {

    /** Checks that {@code data} holds exactly {@code product(shape)} values. */
    public Entry {
      long count = 1;
      for (long d : shape) {
        if (d < 0) {
          throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
        }
        count = Math.multiplyExact(count, d);
      }
      if (count != data.length) {
        throw new IllegalArgumentException(data.length + " values for shape " + Arrays.toString(shape));
      }
    }
  }

  /**
   * Writes the tensors to {@code file}, replacing it if it exists. Data is laid out in the map's order, so a sorted
   * map gives a deterministic file.
   *
   * @param file the {@code .safetensors} file to write
   * @param tensors the tensors by name
   * @throws IOException if the file cannot be written
   */
  public static void write(Path file, SortedMap<String, Entry> tensors) throws IOException {
    byte[] header = header(tensors);
    try (FileChannel out = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      ByteBuffer prefix = ByteBuffer.allocate(Long.BYTES).order(ByteOrder.LITTLE_ENDIAN);
      prefix.putLong(header.length).flip();
      writeFully(out, prefix);
      writeFully(out, ByteBuffer.wrap(header));
      ByteBuffer chunk = ByteBuffer.allocate(CHUNK_FLOATS * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
      for (Entry entry : tensors.values()) {
        float[] data = entry.data();
        for (int from = 0; from < data.length; from += CHUNK_FLOATS) {
          int n = Math.min(CHUNK_FLOATS, data.length - from);
          chunk.clear();
          chunk.asFloatBuffer().put(data, from, n);
          chunk.limit(n * Float.BYTES);
          writeFully(out, chunk);
        }
      }
    }
  }

  private static byte[] header(SortedMap<String, Entry> tensors) throws IOException {
    ObjectNode root = JSON.createObjectNode();
    root.putObject("__metadata__").put("format", "pt");
    long offset = 0;
    for (Map.Entry<String, Entry> e : tensors.entrySet()) {
      String name = e.getKey();
      if (name.isEmpty() || name.equals("__metadata__")) {
        throw new IllegalArgumentException("invalid tensor name '" + name + "'");
      }
      ObjectNode info = root.putObject(name);
      info.put("dtype", "F32");
      ArrayNode shape = info.putArray("shape");
      for (long d : e.getValue().shape()) {
        shape.add(d);
      }
      long end = offset + (long) e.getValue().data().length * Float.BYTES;
      info.putArray("data_offsets").add(offset).add(end);
      offset = end;
    }
    byte[] json = JSON.writeValueAsString(root).getBytes(StandardCharsets.UTF_8);
    // Padding to 8 bytes keeps the data section aligned for readers that map the file and view it as floats.
    int padded = (json.length + 7) & ~7;
    byte[] header = Arrays.copyOf(json, padded);
    Arrays.fill(header, json.length, padded, (byte) ' ');
    return header;
  }

  private static void writeFully(FileChannel out, ByteBuffer buf) throws IOException {
    while (buf.hasRemaining()) {
      out.write(buf);
    }
  }
}

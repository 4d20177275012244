package dev.peftembed.bench;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Vectors passed from a worker JVM to the parent: a count, a width, then the floats, big-endian. */
final class VectorFile {
  private VectorFile() {}

  static void write(Path file, List<float[]> vectors) throws IOException {
    try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(file)))) {
      out.writeInt(vectors.size());
      out.writeInt(vectors.isEmpty() ? 0 : vectors.get(0).length);
      for (float[] v : vectors) {
        for (float x : v) {
          out.writeFloat(x);
        }
      }
    }
  }

  static List<float[]> read(Path file) throws IOException {
    try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file)))) {
      int count = in.readInt();
      int width = in.readInt();
      List<float[]> out = new ArrayList<>(count);
      for (int i = 0; i < count; i++) {
        float[] v = new float[width];
        for (int j = 0; j < width; j++) {
          v[j] = in.readFloat();
        }
        out.add(v);
      }
      return out;
    }
  }
}

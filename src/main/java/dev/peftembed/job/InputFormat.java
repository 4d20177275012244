package dev.peftembed.job;

import java.io.IOException;
import java.io.InputStream;
import java.util.Locale;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/** The input formats {@code embed} reads, and how to tell them apart. */
public enum InputFormat {
  /** JSON lines: one object per line. */
  JSONL,
  /** Apache Parquet. */
  PARQUET,
  /** CSV with a header row. */
  CSV,
  /** Plain text: one text per line. */
  TEXT;

  /** @throws IllegalArgumentException naming the accepted values */
  public static InputFormat parse(String name) {
    return switch (name.toLowerCase(Locale.ROOT)) {
      case "jsonl", "json", "ndjson" -> JSONL;
      case "parquet" -> PARQUET;
      case "csv" -> CSV;
      case "text", "txt" -> TEXT;
      default -> throw new IllegalArgumentException("input format must be jsonl, parquet, csv or text, got \""
          + name + "\"");
    };
  }

  /**
   * Detects the format of a file, or of the first data file of a directory: by extension, else by content (the
   * Parquet magic number, a leading '{' for JSON lines, otherwise text).
   *
   * @throws IllegalArgumentException if the path does not exist or holds no data file
   */
  public static InputFormat detect(String location, Configuration conf) {
    try {
      Path path = new Path(location);
      FileSystem fs = path.getFileSystem(conf);
      if (!fs.exists(path)) {
        throw new IllegalArgumentException(location + ": input not found");
      }
      Path file = fs.getFileStatus(path).isDirectory() ? firstDataFile(fs, path, location) : path;
      InputFormat byName = byExtension(file.getName());
      return byName != null ? byName : byContent(fs, file);
    } catch (IOException e) {
      throw new IllegalArgumentException(location + ": cannot read input: " + e.getMessage(), e);
    }
  }

  private static Path firstDataFile(FileSystem fs, Path dir, String location) throws IOException {
    for (FileStatus s : fs.listStatus(dir)) {
      String name = s.getPath().getName();
      if (s.isFile() && !name.startsWith("_") && !name.startsWith(".") && s.getLen() > 0) {
        return s.getPath();
      }
    }
    throw new IllegalArgumentException(location + ": directory holds no data file");
  }

  private static InputFormat byExtension(String name) {
    String n = name.toLowerCase(Locale.ROOT);
    n = n.endsWith(".gz") ? n.substring(0, n.length() - 3) : n;
    if (n.endsWith(".jsonl") || n.endsWith(".ndjson") || n.endsWith(".json")) {
      return JSONL;
    }
    if (n.endsWith(".parquet")) {
      return PARQUET;
    }
    if (n.endsWith(".csv")) {
      return CSV;
    }
    if (n.endsWith(".txt")) {
      return TEXT;
    }
    return null;
  }

  private static InputFormat byContent(FileSystem fs, Path file) throws IOException {
    byte[] head = new byte[4];
    int n;
    try (InputStream in = fs.open(file)) {
      n = in.readNBytes(head, 0, 4);
    }
    if (n == 4 && head[0] == 'P' && head[1] == 'A' && head[2] == 'R' && head[3] == '1') {
      return PARQUET;
    }
    return n > 0 && head[0] == '{' ? JSONL : TEXT;
  }
}

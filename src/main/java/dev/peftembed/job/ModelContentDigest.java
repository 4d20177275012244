package dev.peftembed.job;

import dev.peftembed.model.ModelFormatException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitOption;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.List;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Feeds the content of a model or adapter directory into a digest, independent of where the directory lives: every
 * file the encoder can read (configs and tokenizer, {@code .json}; weights, {@code .safetensors}; a TorchScript graph,
 * {@code .pt}) in the directory and its module subdirectories, by relative path, length and full bytes. Other files
 * (README, ONNX or PyTorch pickles the encoder never loads, Hadoop's {@code .crc} side files) do not count, so a copy
 * made by any tool digests the same.
 *
 * <p>Weights are hashed in full rather than by header: a fine-tune that keeps the shapes keeps the header, and SHA-256
 * of the 90 MB all-MiniLM-L6-v2 weights takes about 50 ms on one core (a quarter second in a cold JVM).
 */
final class ModelContentDigest {
  private static final Logger LOG = LoggerFactory.getLogger(ModelContentDigest.class);
  /** The directory and sentence-transformers' module subdirectories ({@code 1_Pooling}, {@code 2_Dense}). */
  private static final int DEPTH = 2;
  private static final List<String> READ_BY_ENCODER = List.of(".json", ".safetensors", ".pt");

  private ModelContentDigest() {}

  /**
   * Adds the directory's content to {@code sha}.
   *
   * @param what what the directory holds, for the error message ("model directory", "adapter directory")
   * @throws ModelFormatException if {@code dir} is not a directory
   * @throws UncheckedIOException if a file cannot be read
   */
  static void update(MessageDigest sha, Path dir, String what) {
    if (!Files.isDirectory(dir)) {
      throw new ModelFormatException(dir, what + " not found");
    }
    long start = System.nanoTime();
    List<Path> files = files(dir);
    long bytes = 0;
    byte[] buffer = new byte[1 << 16];
    for (Path file : files) {
      try (InputStream in = Files.newInputStream(file)) {
        String relative = dir.relativize(file).toString().replace(file.getFileSystem().getSeparator(), "/");
        // Name and length first, so that no two different directories feed the same byte stream.
        sha.update((relative + '\t' + Files.size(file) + '\n').getBytes(StandardCharsets.UTF_8));
        for (int n = in.read(buffer); n > 0; n = in.read(buffer)) {
          sha.update(buffer, 0, n);
          bytes += n;
        }
      } catch (IOException e) {
        throw new UncheckedIOException(file + ": cannot read it to fingerprint the " + what + ": " + e.getMessage(), e);
      }
    }
    LOG.info("fingerprinted the {} {}: {} files, {} MB in {} ms", what, dir, files.size(), bytes >> 20,
        (System.nanoTime() - start) / 1_000_000);
  }

  private static List<Path> files(Path dir) {
    try (Stream<Path> paths = Files.walk(dir, DEPTH, FileVisitOption.FOLLOW_LINKS)) {
      return paths.filter(p -> !p.equals(dir) && Files.isRegularFile(p) && !hidden(dir, p) && readByEncoder(p))
          .sorted()
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException(dir + ": cannot list it: " + e.getMessage(), e);
    }
  }

  private static boolean hidden(Path dir, Path file) {
    for (Path part : dir.relativize(file)) {
      if (part.toString().startsWith(".")) {
        return true;
      }
    }
    return false;
  }

  private static boolean readByEncoder(Path file) {
    String name = file.getFileName().toString();
    return READ_BY_ENCODER.stream().anyMatch(name::endsWith);
  }
}

package dev.peftembed.spark;

import dev.peftembed.onnx.DefaultModel;
import dev.peftembed.runtime.CacheHome;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.UUID;
import java.util.stream.Stream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.SparkEnv;
import org.apache.spark.SparkFiles;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns a {@link ModelSource} into a local directory, on the driver and on every executor, because the encoder reads
 * plain files.
 *
 * <ul>
 *   <li>The default model: imported into the cache home on first use.
 *   <li>A plain path: used in place. A relative path that does not exist in the working directory is looked up
 *       among the files Spark shipped ({@code --files}, {@code --archives}, {@link SparkFiles}), which is where they
 *       land on a driver in client mode.
 *   <li>A URI: copied once per JVM into {@code <cache home>/remote/<fingerprint>/<name>}, keeping the directory's
 *       own name (an adapter names its base model by it). The copy is written under a temporary name and renamed,
 *       so executors sharing a host share one complete copy and never see a partial one.
 * </ul>
 */
public final class ModelLocator {
  private static final Logger LOG = LoggerFactory.getLogger(ModelLocator.class);
  private static final OncePerKey<String, Path> COPIES = new OncePerKey<>();

  private ModelLocator() {}

  /** @return the directory remote models are copied under: {@code remote/} in the cache home */
  public static Path defaultCacheRoot() {
    return CacheHome.get().resolve("remote");
  }

  /** @return a local directory holding {@code source}, copying it under {@link #defaultCacheRoot()} if remote */
  public static Path localize(ModelSource source) {
    return localize(source, defaultCacheRoot());
  }

  /**
   * @param cacheRoot where remote directories are copied to
   * @return a local directory holding {@code source}; a missing local directory is returned as it is, so that the
   *     encoder's own check names it
   * @throws UncheckedIOException if a remote directory cannot be copied
   */
  public static Path localize(ModelSource source, Path cacheRoot) {
    return switch (source.kind()) {
      case DEFAULT -> DefaultModel.resolve();
      case LOCAL -> local(source.location());
      case REMOTE -> COPIES.get(cacheRoot.resolve(source.fingerprint()).toString(),
          key -> copy(source, Path.of(key)));
    };
  }

  private static Path local(String location) {
    Path path = Path.of(location);
    if (Files.exists(path) || path.isAbsolute() || SparkEnv.get() == null) {
      return path;
    }
    Path shipped = Path.of(SparkFiles.getRootDirectory()).resolve(location);
    return Files.exists(shipped) ? shipped : path;
  }

  private static Path copy(ModelSource source, Path target) {
    String name = new org.apache.hadoop.fs.Path(source.location()).getName();
    Path complete = target.resolve(name.isEmpty() ? "model" : name);
    if (Files.isDirectory(complete)) {
      return complete;
    }
    Path scratch = target.resolveSibling(".tmp-" + UUID.randomUUID());
    long start = System.nanoTime();
    try {
      Files.createDirectories(scratch);
      org.apache.hadoop.fs.Path remote = new org.apache.hadoop.fs.Path(source.location());
      FileSystem fs = remote.getFileSystem(source.hadoopConf().value());
      // The raw local file system writes no .crc side files next to the copy.
      fs.copyToLocalFile(false, remote, new org.apache.hadoop.fs.Path(scratch.resolve(complete.getFileName())
          .toUri()), true);
      try {
        Files.move(scratch, target, StandardCopyOption.ATOMIC_MOVE);
      } catch (FileAlreadyExistsException | java.nio.file.DirectoryNotEmptyException e) {
        // Another executor on this host finished the same copy first; its copy is identical.
        deleteTree(scratch);
      }
      LOG.info("copied {} to {} in {} ms", source.location(), complete, (System.nanoTime() - start) / 1_000_000);
      return complete;
    } catch (IOException e) {
      deleteQuietly(scratch);
      throw new UncheckedIOException("cannot copy " + source.location() + " to " + target + ": " + e.getMessage(), e);
    }
  }

  private static void deleteQuietly(Path dir) {
    try {
      deleteTree(dir);
    } catch (IOException e) {
      LOG.warn("cannot delete the partial copy {}: {}", dir, e.getMessage());
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}

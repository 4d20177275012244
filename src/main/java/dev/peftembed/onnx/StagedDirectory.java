package dev.peftembed.onnx;

import java.io.IOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A directory that appears complete or not at all: it is written into a hidden sibling and moved into place when
 * done, so that a failed or interrupted import never leaves a half-written model where a reader would take it for
 * a whole one.
 */
final class StagedDirectory {
  private static final Logger LOG = LoggerFactory.getLogger(StagedDirectory.class);

  private StagedDirectory() {}

  /** Fills a directory that nobody else sees yet. */
  @FunctionalInterface
  interface Contents {
    /** @param dir the empty staging directory */
    void writeInto(Path dir) throws IOException;
  }

  /**
   * @throws FileAlreadyExistsException if {@code dir} exists and is not a directory
   * @throws DirectoryNotEmptyException if {@code dir} is a directory with entries
   */
  static void requireEmptyOrAbsent(Path dir) throws IOException {
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

  /**
   * Creates {@code target} with what {@code contents} writes. On failure the staging directory is deleted and
   * {@code target} is left as it was.
   *
   * @param target an absolute path that is absent or an empty directory
   */
  static void create(Path target, Contents contents) throws IOException {
    Files.createDirectories(target.getParent());
    // A sibling, so that the final move is a rename within one file system.
    Path staging = target.resolveSibling(
        "." + target.getFileName() + ".importing-" + Long.toHexString(ThreadLocalRandom.current().nextLong()));
    Files.createDirectory(staging);
    try {
      contents.writeInto(staging);
      publish(staging, target);
    } catch (IOException | RuntimeException e) {
      try {
        deleteRecursively(staging);
      } catch (IOException cleanup) {
        LOG.warn("Could not remove the partial import {}: {}", staging, cleanup.toString());
      }
      throw e;
    }
  }

  /** Deletes a directory and everything under it, children first. */
  static void deleteRecursively(Path dir) throws IOException {
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
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
}

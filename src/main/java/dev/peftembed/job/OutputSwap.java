package dev.peftembed.job;

import java.io.IOException;
import java.util.UUID;
import java.util.function.Consumer;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Replaces a file-based output with a new version written next to it. Spark cannot overwrite a path that the same
 * job reads from, so the new version goes to a hidden sibling directory through Spark's commit protocol, and only
 * once it is committed do two renames swap it in. A failed write leaves the old output untouched.
 *
 * <p>Between the two renames the output is briefly absent: readers fail rather than see a mix. On HDFS and local
 * disks a rename is atomic; on object stores it is a copy, so there use the Delta format instead.
 */
final class OutputSwap {
  private static final Logger LOG = LoggerFactory.getLogger(OutputSwap.class);

  private OutputSwap() {}

  /**
   * @param output the existing output directory
   * @param writeTo writes the new version to the directory it is given, which does not exist yet
   * @throws IllegalStateException if a rename fails (the old output is restored when it can be)
   */
  static void replace(Configuration hadoop, String output, Consumer<String> writeTo) {
    try {
      Path given = new Path(output);
      FileSystem fs = given.getFileSystem(hadoop);
      Path out = fs.makeQualified(given);
      String tag = UUID.randomUUID().toString();
      // Hidden names (leading dot) so that readers listing the parent directory skip them.
      Path staged = new Path(out.getParent(), "." + out.getName() + ".peft-embed-staged-" + tag);
      Path previous = new Path(out.getParent(), "." + out.getName() + ".peft-embed-previous-" + tag);
      try {
        writeTo.accept(staged.toString());
      } catch (RuntimeException e) {
        deleteQuietly(fs, staged);
        throw e;
      }
      if (!fs.rename(out, previous)) {
        deleteQuietly(fs, staged);
        throw new IllegalStateException(output + ": cannot move the old output aside to " + previous);
      }
      if (!fs.rename(staged, out)) {
        boolean restored = fs.rename(previous, out);
        throw new IllegalStateException(output + ": cannot move the new output " + staged + " into place; the old "
            + "output " + (restored ? "is restored" : "is at " + previous));
      }
      if (!fs.delete(previous, true)) {
        LOG.warn("{}: could not delete the previous version at {}", output, previous);
      }
    } catch (IOException e) {
      throw new IllegalStateException(output + ": cannot replace the output: " + e.getMessage(), e);
    }
  }

  private static void deleteQuietly(FileSystem fs, Path dir) {
    try {
      fs.delete(dir, true);
    } catch (IOException e) {
      LOG.warn("could not delete the staged output {}: {}", dir, e.getMessage());
    }
  }
}

package dev.peftembed.job;

import java.io.IOException;
import java.io.UncheckedIOException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SaveMode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How a job's output becomes visible, so that a job that fails leaves readers what was there before.
 *
 * <p>Spark's commit protocol keeps task files out of sight until the job commits, but its static overwrite deletes
 * the old output <em>before</em> the job runs, and a failed job in mode error leaves an empty directory behind that
 * makes the rerun fail. So modes error and overwrite write to a hidden staging sibling ({@code .NAME.staging-RUN},
 * skipped by Hadoop and Spark readers like every name starting with a dot) and rename it into place once Spark has
 * committed it; on failure the staging directory is deleted and the output is untouched. Mode append writes in place:
 * there, Spark's commit protocol alone keeps a failed job's files out of the table.
 *
 * <p>A rename is atomic on HDFS and local file systems. On object stores (s3a, gs) it is a copy, and readers can see a
 * half-moved directory during the rename, though never a failed job's rows.
 */
final class OutputPublication {
  private static final Logger LOG = LoggerFactory.getLogger(OutputPublication.class);

  private final FileSystem fs;
  private final Path output;
  private final Path staging;
  private final Path replaced;
  private final SaveMode mode;

  private OutputPublication(FileSystem fs, Path output, String runId, SaveMode mode) {
    this.fs = fs;
    this.output = output;
    this.mode = mode;
    this.staging = mode == SaveMode.Append ? output : sibling(output, "staging-" + runId);
    this.replaced = sibling(output, "replaced-" + runId);
  }

  /**
   * @param output where readers look for the output
   * @param mode error, overwrite or append
   * @param runId names the staging directory; unique per run, so two runs never share one
   */
  static OutputPublication of(String output, SaveMode mode, String runId, Configuration hadoop) {
    try {
      Path path = new Path(output);
      FileSystem fs = path.getFileSystem(hadoop);
      Path qualified = fs.makeQualified(path);
      if (qualified.getParent() == null) {
        throw new IllegalArgumentException(output + ": the output must not be a file system's root");
      }
      return new OutputPublication(fs, qualified, runId, mode);
    } catch (IOException e) {
      throw new UncheckedIOException(output + ": cannot resolve the output location: " + e.getMessage(), e);
    }
  }

  private static Path sibling(Path output, String suffix) {
    return new Path(output.getParent(), "." + output.getName() + "." + suffix);
  }

  /** @return where Spark writes */
  String writePath() {
    return staging.toString();
  }

  /** @return the mode Spark writes with: a staging directory is always new */
  SaveMode writeMode() {
    return mode == SaveMode.Append ? SaveMode.Append : SaveMode.ErrorIfExists;
  }

  /** Makes a committed write visible at the output path. */
  void publish() {
    if (mode == SaveMode.Append) {
      return;
    }
    try {
      boolean exists = fs.exists(output);
      if (exists && mode == SaveMode.ErrorIfExists) {
        throw new IllegalStateException(output + ": the output appeared while the job ran; the job's result is kept "
            + "in " + staging);
      }
      if (exists && !fs.rename(output, replaced)) {
        throw new IOException("cannot move the previous output aside to " + replaced);
      }
      if (!fs.rename(staging, output)) {
        // Put the previous output back; if even that fails, the message must say where it is.
        String previous = !exists || fs.rename(replaced, output) ? "" : "; the previous output is in " + replaced;
        throw new IOException("cannot rename " + staging + " to " + output + previous);
      }
      if (exists && !fs.delete(replaced, true)) {
        LOG.warn("the previous output, replaced, could not be deleted: {}", replaced);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(output + ": cannot publish the job's output: " + e.getMessage(), e);
    }
  }

  /** Removes what a failed write left in the staging directory; the output itself is never touched. */
  void discard() {
    if (mode == SaveMode.Append) {
      return;
    }
    try {
      if (fs.exists(staging) && !fs.delete(staging, true)) {
        LOG.warn("the failed job's staging directory could not be deleted: {}", staging);
      }
    } catch (IOException e) {
      LOG.warn("the failed job's staging directory could not be deleted: {}: {}", staging, e.toString());
    }
  }
}

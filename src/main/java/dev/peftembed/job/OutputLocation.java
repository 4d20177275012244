package dev.peftembed.job;

import java.io.IOException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SaveMode;

/**
 * The checks that the driver makes on a job's output path before and after writing. Every job asks them the same way,
 * so that an unreachable file system reads as the same one-line error wherever it is met.
 */
public final class OutputLocation {
  private OutputLocation() {}

  /**
   * @param output the output path, local or any Hadoop file system
   * @param hadoop the session's Hadoop configuration
   * @return whether something exists at the path
   * @throws IllegalArgumentException naming the path, when its file system cannot be asked
   */
  public static boolean exists(String output, Configuration hadoop) {
    try {
      Path out = new Path(output);
      return out.getFileSystem(hadoop).exists(out);
    } catch (IOException e) {
      throw new IllegalArgumentException(output + ": cannot check the output location: " + e.getMessage(), e);
    }
  }

  /**
   * Refuses, before any work, an output that mode {@code error} would refuse only after the whole job has run.
   *
   * @throws IllegalArgumentException in one line, when the mode is {@code error} and the output exists
   */
  public static void refuseExisting(String output, SaveMode mode, Configuration hadoop) {
    if (mode == SaveMode.ErrorIfExists && exists(output, hadoop)) {
      throw new IllegalArgumentException(output + ": output already exists (use --mode overwrite or append)");
    }
  }
}

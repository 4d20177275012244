package dev.peftembed.spark;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.spark.util.SerializableConfiguration;

/**
 * Where a model or adapter directory lives, as described on the driver and shipped to the executors, where
 * {@link ModelLocator} turns it into a local directory.
 *
 * @param location the path as the user gave it: empty for the default model, a plain path, or a URI with a scheme
 * @param kind how {@code location} is read
 * @param fingerprint for a remote directory, a digest of its files' names, sizes and modification times, listed once
 *     on the driver; it keys the local copies, so a changed directory is copied again. {@code null} otherwise
 * @param hadoopConf the driver's Hadoop configuration for a remote directory (credentials, endpoints), else
 *     {@code null}
 */
public record ModelSource(String location, Kind kind, String fingerprint, SerializableConfiguration hadoopConf)
    implements Serializable {

  /** How a location is read. */
  public enum Kind {
    /** The bundled all-MiniLM-L6-v2, imported on first use in each JVM. */
    DEFAULT,
    /** A path on each node's own file system, or a name shipped with {@code --files} / {@code --archives}. */
    LOCAL,
    /** Anything with a URI scheme ({@code hdfs:}, {@code s3a:}, {@code file:}, ...), read by Hadoop's FileSystem. */
    REMOTE
  }

  /**
   * Describes a location on the driver. A remote directory is listed here, once, so that a missing directory fails
   * before any task runs and executors need no listing of their own.
   *
   * @param location empty for the default model, a plain path, or a Hadoop FileSystem URI
   * @param conf the Hadoop configuration to read remote directories with
   * @param what what the directory holds, for error messages ("model directory", "adapter directory")
   * @throws IllegalArgumentException if a remote directory does not exist or is not a directory
   * @throws UncheckedIOException if it cannot be listed
   */
  public static ModelSource of(String location, Configuration conf, String what) {
    if (location == null || location.isBlank()) {
      return new ModelSource("", Kind.DEFAULT, null, null);
    }
    if (scheme(location) == null) {
      return new ModelSource(location, Kind.LOCAL, null, null);
    }
    org.apache.hadoop.fs.Path dir = new org.apache.hadoop.fs.Path(location);
    try {
      FileSystem fs = dir.getFileSystem(conf);
      FileStatus status;
      try {
        status = fs.getFileStatus(dir);
      } catch (java.io.FileNotFoundException e) {
        throw new IllegalArgumentException(location + ": " + what + " not found");
      }
      if (!status.isDirectory()) {
        throw new IllegalArgumentException(location + ": not a directory (expected the " + what + " itself; "
            + "unpack archives with --archives)");
      }
      return new ModelSource(location, Kind.REMOTE, fingerprint(fs, status.getPath()),
          new SerializableConfiguration(new Configuration(conf)));
    } catch (IOException e) {
      throw new UncheckedIOException(location + ": cannot list the " + what + ": " + e.getMessage(), e);
    }
  }

  /** @return the URI scheme of {@code location}, or {@code null} for a plain path */
  static String scheme(String location) {
    try {
      String scheme = new URI(location).getScheme();
      // One letter would be a Windows drive, not a file system.
      return scheme == null || scheme.length() < 2 ? null : scheme;
    } catch (URISyntaxException e) {
      return null;
    }
  }

  private static String fingerprint(FileSystem fs, org.apache.hadoop.fs.Path dir) throws IOException {
    String root = dir.toUri().getPath();
    List<String> lines = new ArrayList<>();
    RemoteIterator<LocatedFileStatus> files = fs.listFiles(dir, true);
    while (files.hasNext()) {
      LocatedFileStatus f = files.next();
      String relative = f.getPath().toUri().getPath().substring(root.length());
      lines.add(relative + '\t' + f.getLen() + '\t' + f.getModificationTime());
    }
    lines.sort(null);
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      sha.update(dir.toString().getBytes(StandardCharsets.UTF_8));
      for (String line : lines) {
        sha.update((line + '\n').getBytes(StandardCharsets.UTF_8));
      }
      return HexFormat.of().formatHex(sha.digest(), 0, 12);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every JVM", e);
    }
  }
}

package dev.peftembed.job;

import dev.peftembed.spark.ModelLocator;
import dev.peftembed.spark.ModelSource;
import dev.peftembed.spark.PeftEmbedder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import org.apache.hadoop.conf.Configuration;

/**
 * Names the vector space an embedding lives in: the content of the model and adapter directories
 * ({@link ModelContentDigest}) and every setting that changes the vectors (not batching or device, which change them
 * only by float rounding). An incremental run refuses an output made with another fingerprint, since mixing two
 * vector spaces in one table would be silently wrong.
 *
 * <p>Content, not location: weights replaced in place under the same path are a different model, and the same model
 * at another path (a copy, the default model imported under another cache home, a remote directory copied to each
 * node) is the same one. It is computed on the driver, from the local copy the driver validates anyway.
 */
final class EmbedderFingerprint {
  private EmbedderFingerprint() {}

  /** @return a human-readable description of the model, adapter and settings, with their locations */
  static String describe(PeftEmbedder stage) {
    return "model=" + (stage.getModelPath().isEmpty() ? "(default all-MiniLM-L6-v2)" : stage.getModelPath())
        + " adapter=" + (stage.getAdapterPath().isEmpty() ? "(none)" : stage.getAdapterPath())
        + " " + settings(stage);
  }

  /**
   * @param hadoop the configuration remote directories are read with
   * @return {@code sha256:} and the first 16 hex digits of the SHA-256 of the model's and adapter's content and the
   *     settings
   * @throws dev.peftembed.model.ModelFormatException if the model or adapter directory is missing
   */
  static String of(PeftEmbedder stage, Configuration hadoop) {
    MessageDigest sha = sha256();
    sha.update("model\n".getBytes(StandardCharsets.UTF_8));
    ModelContentDigest.update(sha, local(stage.getModelPath(), hadoop, "model directory"), "model directory");
    if (!stage.getAdapterPath().isEmpty()) {
      sha.update("adapter\n".getBytes(StandardCharsets.UTF_8));
      ModelContentDigest.update(sha, local(stage.getAdapterPath(), hadoop, "adapter directory"), "adapter directory");
    }
    sha.update(("settings\n" + settings(stage)).getBytes(StandardCharsets.UTF_8));
    return "sha256:" + HexFormat.of().formatHex(sha.digest(), 0, 8);
  }

  private static Path local(String location, Configuration hadoop, String what) {
    return ModelLocator.localize(ModelSource.of(location, hadoop, what));
  }

  private static String settings(PeftEmbedder stage) {
    return "virtualTokens=" + stage.getVirtualTokens()
        + " maxSeqLength=" + stage.getMaxSeqLength()
        + " dtype=" + stage.getDtype()
        + " prompt=" + (stage.isSet(stage.prompt()) ? "\"" + stage.getPrompt() + "\"" : "(model default)")
        + " promptName=" + stage.getPromptName()
        + " normalize=" + stage.getNormalize()
        + " truncateDim=" + stage.getTruncateDim();
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every JVM", e);
    }
  }
}

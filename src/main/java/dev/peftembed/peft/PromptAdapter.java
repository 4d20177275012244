package dev.peftembed.peft;

import dev.peftembed.model.BertConfig;
import dev.peftembed.model.Checkpoint;
import dev.peftembed.model.ModelFormatException;
import dev.peftembed.model.SafetensorsFile;
import dev.peftembed.model.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A prompt-learning adapter: prompt tuning, P-tuning or prefix tuning.
 *
 * <p>All three save a single key {@code prompt_embeddings}: prompt tuning its [M, token_dim] input embeddings,
 * P-tuning its prompt encoder's output of the same shape, and prefix tuning its [M, layers·2·token_dim] keys and
 * values (projected, when trained with {@code prefix_projection}). So one loader serves them all; the encoder gives
 * the table its meaning ({@link AdapterConfig#isPrefix()}).
 *
 * @param directory the adapter directory
 * @param config its {@code adapter_config.json}
 * @param promptEmbeddings the table, row-major, in the shape {@link AdapterConfig#tableShape} gives
 */
public record PromptAdapter(Path directory, AdapterConfig config, Tensor promptEmbeddings) {
  private static final Logger LOG = LoggerFactory.getLogger(PromptAdapter.class);

  static final String WEIGHTS = "adapter_model.safetensors";
  static final String KEY = "prompt_embeddings";

  /** @return M, the number of virtual tokens */
  public int numVirtualTokens() {
    return config.numVirtualTokens();
  }

  /**
   * Reads and validates the adapter's config and the header of its weights (never the weights): what a Spark driver
   * checks before any task runs.
   *
   * @param adapterDir the PEFT adapter directory
   * @param base the base model's architecture
   * @param baseModelDir the base model directory, to warn when the adapter names another model
   */
  public static AdapterConfig validate(Path adapterDir, BertConfig base, Path baseModelDir) {
    return checked(adapterDir, base, baseModelDir).config();
  }

  /**
   * Loads an adapter for {@code base}.
   *
   * @throws ModelFormatException naming the file and what was expected
   */
  public static PromptAdapter load(Path adapterDir, BertConfig base, Path baseModelDir) {
    Checked checked = checked(adapterDir, base, baseModelDir);
    return new PromptAdapter(adapterDir, checked.config(), checked.weights().read(KEY));
  }

  /** A config and the weights file whose header was checked against it: the one file that is then read. */
  private record Checked(AdapterConfig config, SafetensorsFile weights) {}

  private static Checked checked(Path adapterDir, BertConfig base, Path baseModelDir) {
    AdapterConfig config = AdapterConfig.read(adapterDir, base);
    Path weights = adapterDir.resolve(WEIGHTS);
    if (!Files.isRegularFile(weights)) {
      throw new ModelFormatException(adapterDir, Checkpoint.noSafetensorsMessage(adapterDir, "adapter"));
    }
    SafetensorsFile file = SafetensorsFile.open(weights);
    checkTable(config, file, base);
    warnOnBaseMismatch(config, base, baseModelDir);
    return new Checked(config, file);
  }

  /** The header must hold {@code prompt_embeddings} with the shape adapter_config.json implies. */
  private static void checkTable(AdapterConfig config, SafetensorsFile file, BertConfig base) {
    SafetensorsFile.Entry entry = file.entry(KEY);
    if (entry == null) {
      throw new ModelFormatException(file.path(), "missing tensor \"" + KEY + "\" (found " + file.names()
          + "); expected the table a " + config.peftType() + " adapter saves");
    }
    long[] expected = config.tableShape(base);
    if (!Arrays.equals(entry.shape(), expected)) {
      throw new ModelFormatException(file.path(), "tensor \"" + KEY + "\" has shape "
          + Arrays.toString(entry.shape()) + " but adapter_config.json implies " + Arrays.toString(expected));
    }
  }

  static void warnOnBaseMismatch(AdapterConfig config, BertConfig base, Path baseModelDir) {
    String recorded = config.baseModelNameOrPath();
    if (recorded == null || recorded.isBlank()) {
      return;
    }
    String want = lastSegment(recorded);
    boolean matches = want.equalsIgnoreCase(lastSegment(baseModelDir.toAbsolutePath().normalize().toString()))
        || (base.nameOrPath() != null && want.equalsIgnoreCase(lastSegment(base.nameOrPath())));
    if (!matches) {
      LOG.warn("adapter {} was trained on \"{}\" but the model is {}: make sure it is the same base model",
          config.file(), recorded, baseModelDir);
    }
  }

  private static String lastSegment(String nameOrPath) {
    String s = nameOrPath.replace('\\', '/');
    while (s.endsWith("/")) {
      s = s.substring(0, s.length() - 1);
    }
    return s.substring(s.lastIndexOf('/') + 1);
  }
}

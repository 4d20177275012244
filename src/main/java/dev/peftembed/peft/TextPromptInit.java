package dev.peftembed.peft;

import dev.peftembed.model.BertConfig;
import dev.peftembed.model.Checkpoint;
import dev.peftembed.model.ModelDirectory;
import dev.peftembed.model.Tensor;
import dev.peftembed.text.TextTokenizer;
import dev.peftembed.text.TokenizedText;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * PEFT's {@code PromptTuningInit.TEXT}: the M virtual tokens start as the word embeddings of an init text's tokens.
 * PEFT tokenizes the text as the tokenizer does by default (special tokens included, so [CLS] and [SEP] for BERT),
 * repeats the ids until there are at least M, keeps the first M, and copies those rows of the word-embedding table.
 * An adapter built this way is what a prompt-tuning run starts from, before any training step.
 */
public final class TextPromptInit {
  private static final String WORD_EMBEDDINGS = "embeddings.word_embeddings.weight";

  private TextPromptInit() {}

  /**
   * The ids PEFT takes: the text's ids repeated as often as needed, cut to M.
   *
   * @param textIds the init text's token ids, special tokens included
   * @param numVirtualTokens M
   */
  public static long[] virtualTokenIds(long[] textIds, int numVirtualTokens) {
    if (textIds.length == 0) {
      throw new IllegalArgumentException("the init text has no tokens");
    }
    if (numVirtualTokens <= 0) {
      throw new IllegalArgumentException("the number of virtual tokens must be positive, got " + numVirtualTokens);
    }
    long[] ids = new long[numVirtualTokens];
    for (int i = 0; i < numVirtualTokens; i++) {
      ids[i] = textIds[i % textIds.length];
    }
    return ids;
  }

  /**
   * Builds a prompt-tuning adapter from a safetensors model directory and writes it in PEFT's layout.
   *
   * @param modelDir the base model (its tokenizer and word-embedding table are read)
   * @param initText the text whose token embeddings start the prompt
   * @param numVirtualTokens M
   * @param adapterDir the adapter directory to create
   * @return the virtual tokens' ids, in order
   * @throws dev.peftembed.model.ModelFormatException for a bad model directory
   */
  public static long[] writeAdapter(Path modelDir, String initText, int numVirtualTokens, Path adapterDir)
      throws IOException {
    ModelDirectory model = ModelDirectory.read(modelDir);
    if (model.isTorchScript()) {
      throw new IllegalArgumentException(modelDir + ": a TorchScript graph exposes no word-embedding table; build "
          + "the adapter from the safetensors model it was exported from");
    }
    BertConfig config = model.bert();
    if (numVirtualTokens >= config.positionLimit()) {
      throw new IllegalArgumentException(numVirtualTokens + " virtual tokens leave no room for real tokens in the "
          + "model's " + config.positionLimit() + " positions");
    }
    long[] textIds;
    try (TextTokenizer tokenizer = TextTokenizer.load(model.tokenizerFile(), config.positionLimit(),
        model.doLowerCase())) {
      TokenizedText tokens = tokenizer.encode(List.of(initText)).get(0);
      textIds = tokens.ids();
    }
    long[] ids = virtualTokenIds(textIds, numVirtualTokens);
    int h = config.hiddenSize();
    Tensor table = Checkpoint.open(modelDir).read(WORD_EMBEDDINGS, config.vocabSize(), h);
    float[] rows = new float[numVirtualTokens * h];
    for (int r = 0; r < numVirtualTokens; r++) {
      System.arraycopy(table.data(), Math.toIntExact(ids[r] * h), rows, r * h, h);
    }
    // The directory's name rather than its path: the same adapter file on every machine.
    String base = config.nameOrPath() != null ? config.nameOrPath()
        : modelDir.toAbsolutePath().normalize().getFileName().toString();
    PromptAdapterWriter.write(adapterDir, rows, numVirtualTokens, base, config, initText);
    return ids;
  }
}

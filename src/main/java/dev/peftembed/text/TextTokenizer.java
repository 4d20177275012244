package dev.peftembed.text;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import dev.peftembed.model.ModelFormatException;
import dev.peftembed.runtime.DjlRuntime;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The model's Hugging Face fast tokenizer, set up as sentence-transformers sets it up: special tokens added,
 * truncation at the model's real-token limit whatever tokenizer.json itself says, and no padding (batches are
 * padded after length sorting).
 */
public final class TextTokenizer implements AutoCloseable {
  /** Characters per allowed token in the prefix of a long text: far above any tokenizer's average. */
  private static final int PREFIX_CHARS_PER_TOKEN = 32;
  private static final int MIN_PREFIX_CHARS = 16384;

  private final HuggingFaceTokenizer tokenizer;
  private final int maxLength;
  private final boolean lowerCase;

  private TextTokenizer(HuggingFaceTokenizer tokenizer, int maxLength, boolean lowerCase) {
    this.tokenizer = tokenizer;
    this.maxLength = maxLength;
    this.lowerCase = lowerCase;
  }

  /**
   * @param tokenizerJson the model's {@code tokenizer.json}
   * @param maxLength the real-token limit, special tokens included
   * @param lowerCase sentence-transformers' {@code do_lower_case}: lower-case texts before tokenizing
   * @throws ModelFormatException if the file cannot be loaded as a tokenizer
   */
  public static TextTokenizer load(Path tokenizerJson, int maxLength, boolean lowerCase) {
    if (maxLength < 2) {
      throw new IllegalArgumentException("token limit must leave room for [CLS] and [SEP], got " + maxLength);
    }
    DjlRuntime.prepare();
    try {
      HuggingFaceTokenizer t = HuggingFaceTokenizer.builder()
          .optTokenizerPath(tokenizerJson)
          .optAddSpecialTokens(true)
          .optPadding(false)
          .optTruncation(true)
          .optMaxLength(maxLength)
          .build();
      return new TextTokenizer(t, maxLength, lowerCase);
    } catch (IOException | RuntimeException e) {
      throw new ModelFormatException(tokenizerJson, "cannot load the tokenizer: " + e.getMessage(), e);
    }
  }

  /** @return the real-token limit, special tokens included */
  public int maxLength() {
    return maxLength;
  }

  /**
   * Tokenizes a batch (in parallel, in native code). Texts must not be null.
   *
   * <p>A very long text is tokenized from a prefix cut at a whitespace boundary: tokenizing a 5 MB text in full takes
   * seconds, yet only its first few hundred tokens are kept. Pre-tokenizers split at whitespace, so the prefix's
   * tokens are the text's first tokens; if the prefix turns out not to reach the limit, the full text is tokenized.
   */
  public List<TokenizedText> encode(List<String> texts) {
    int cutAt = Math.max(MIN_PREFIX_CHARS, maxLength * PREFIX_CHARS_PER_TOKEN);
    List<String> prepared = new ArrayList<>(texts.size());
    for (String t : texts) {
      String p = t.length() > cutAt ? prefix(t, cutAt) : t;
      prepared.add(lowerCase ? p.toLowerCase(Locale.ROOT) : p);
    }
    Encoding[] encodings = tokenizer.batchEncode(prepared);
    List<TokenizedText> out = new ArrayList<>(encodings.length);
    for (int i = 0; i < encodings.length; i++) {
      Encoding e = encodings[i];
      if (texts.get(i).length() > cutAt && !e.exceedMaxLength()) {
        e = tokenizer.encode(lowerCase ? texts.get(i).toLowerCase(Locale.ROOT) : texts.get(i));
      }
      out.add(new TokenizedText(e.getIds(), e.getTypeIds(), e.exceedMaxLength()));
    }
    return out;
  }

  private static String prefix(String text, int cutAt) {
    int space = cutAt;
    while (space > cutAt / 2 && !Character.isWhitespace(text.charAt(space))) {
      space--;
    }
    return text.substring(0, space > cutAt / 2 ? space : cutAt);
  }

  /**
   * The number of leading tokens a text prompt occupies, [CLS] included: what sentence-transformers leaves out of
   * pooling when {@code include_prompt} is false.
   */
  public int promptLength(String prompt) {
    return encode(List.of(prompt)).get(0).length() - 1;
  }

  @Override
  public void close() {
    tokenizer.close();
  }
}

package dev.peftembed.bench;

import dev.peftembed.text.TextTokenizer;
import dev.peftembed.text.TokenizedText;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Generates benchmark texts of exact token lengths from the bundled sample sentences, deterministically: text
 * {@code i} of a kind depends only on the seed, the kind and {@code i}, never on how many texts are asked for or in
 * which order, so a 1k-row corpus is the first 1k rows of the 100k-row one and Spark tasks can generate their own
 * rows.
 *
 * <p>Lengths are exact without tokenizing each text because WordPiece tokenizes every whitespace-separated word on its
 * own (BERT's pre-tokenizer splits at whitespace and punctuation before WordPiece runs): a text's token count is
 * 2 (for [CLS] and [SEP]) plus the sum of its words' piece counts, which are measured once per distinct word.
 */
public final class CorpusGenerator implements Serializable {
  private static final long serialVersionUID = 1L;

  /** The seed of the published figures. */
  public static final long DEFAULT_SEED = 42L;

  /** [CLS] and [SEP]. */
  private static final int SPECIAL_TOKENS = 2;

  private final long seed;
  private final String[] words;
  private final int[] pieces;
  private final int[] sentenceStarts;

  private CorpusGenerator(long seed, String[] words, int[] pieces, int[] sentenceStarts) {
    this.seed = seed;
    this.words = words;
    this.pieces = pieces;
    this.sentenceStarts = sentenceStarts;
  }

  /**
   * @param tokenizer the model's tokenizer, which defines what a token is
   * @param seed fixes every text
   * @return a generator over the bundled sample sentences
   */
  public static CorpusGenerator fromSamples(TextTokenizer tokenizer, long seed) {
    return of(SampleText.sentences(), tokenizer, seed);
  }

  /** A generator over the given sentences; their words are tokenized once here. */
  static CorpusGenerator of(List<String> sentences, TextTokenizer tokenizer, long seed) {
    List<String> wordList = new ArrayList<>();
    List<Integer> starts = new ArrayList<>();
    for (String sentence : sentences) {
      String[] split = sentence.trim().split("\\s+");
      if (split.length > 0 && !split[0].isEmpty()) {
        starts.add(wordList.size());
        wordList.addAll(List.of(split));
      }
    }
    if (wordList.isEmpty()) {
      throw new IllegalArgumentException("no words in the sample sentences");
    }
    Map<String, Integer> distinct = new LinkedHashMap<>();
    for (String w : wordList) {
      distinct.putIfAbsent(w, distinct.size());
    }
    List<TokenizedText> encoded = tokenizer.encode(new ArrayList<>(distinct.keySet()));
    int[] pieces = new int[wordList.size()];
    for (int i = 0; i < pieces.length; i++) {
      pieces[i] = encoded.get(distinct.get(wordList.get(i))).length() - SPECIAL_TOKENS;
    }
    return new CorpusGenerator(seed, wordList.toArray(String[]::new), pieces,
        starts.stream().mapToInt(Integer::intValue).toArray());
  }

  /** @return the first {@code n} texts of {@code kind} */
  public Corpus corpus(CorpusKind kind, int n) {
    List<String> texts = new ArrayList<>(n);
    int[] lengths = new int[n];
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < n; i++) {
      lengths[i] = write(kind, i, text);
      texts.add(text.toString());
    }
    return new Corpus(kind, List.copyOf(texts), lengths);
  }

  /** @return text {@code index} of {@code kind} */
  public String text(CorpusKind kind, long index) {
    StringBuilder text = new StringBuilder();
    write(kind, index, text);
    return text.toString();
  }

  /**
   * Draws a target length, then reads the sample words from a random sentence start onwards (wrapping round),
   * taking each word that still fits and skipping one that would overshoot, until the target is met exactly. Single
   * piece words are common, so a skip is rare and short.
   *
   * @return the text's length in tokens
   */
  private int write(CorpusKind kind, long index, StringBuilder text) {
    SplittableRandom rng = new SplittableRandom(seedOf(kind, index));
    int budget = kind.drawLength(rng) - SPECIAL_TOKENS;
    int w = sentenceStarts[rng.nextInt(sentenceStarts.length)];
    text.setLength(0);
    int used = 0;
    for (int scanned = 0; used < budget && scanned < words.length; scanned++) {
      if (used + pieces[w] <= budget) {
        if (!text.isEmpty()) {
          text.append(' ');
        }
        text.append(words[w]);
        used += pieces[w];
      }
      w = (w + 1) % words.length;
    }
    return used + SPECIAL_TOKENS;
  }

  /** One well-spread seed per (seed, kind, index), so that neighbouring texts are unrelated. */
  private long seedOf(CorpusKind kind, long index) {
    long s = seed * 0x9E3779B97F4A7C15L + kind.ordinal();
    return s * 0xBF58476D1CE4E5B9L + index;
  }
}

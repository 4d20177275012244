package dev.peftembed.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.embedding.onnx.allminilml6v2.AllMiniLmL6V2EmbeddingModel;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * System b: langchain4j's in-process all-MiniLM-L6-v2, used as its documentation shows: the no-argument
 * constructor and {@code embedAll} over text segments. It embeds one text per ONNX Runtime call, spread over a
 * thread pool of one thread per core, and reads at most the first 128 tokens of a text (the truncation its
 * tokenizer.json sets, read from there), where sentence-transformers reads 256.
 */
final class LangchainModel implements EmbeddingSystem {
  private static final String TOKENIZER_RESOURCE = "all-minilm-l6-v2-tokenizer.json";

  private final EmbeddingModel model = new AllMiniLmL6V2EmbeddingModel();
  /** The most tokens of one text the model reads, [CLS] and [SEP] included. */
  private final int tokenLimit = readTokenLimit();

  @Override
  public String id() {
    return "b";
  }

  @Override
  public String description() {
    return "langchain4j AllMiniLmL6V2EmbeddingModel (ORT, 1 text per call, reads ≤ " + tokenLimit + " tokens)";
  }

  @Override
  public List<float[]> encode(List<String> texts) {
    List<TextSegment> segments = new ArrayList<>(texts.size());
    for (String t : texts) {
      segments.add(TextSegment.from(t));
    }
    List<float[]> out = new ArrayList<>(texts.size());
    for (Embedding e : model.embedAll(segments).content()) {
      out.add(e.vector());
    }
    return out;
  }

  /** Batch size one: no padding; real tokens are those it reads, up to its limit. */
  @Override
  public TokenCount tokens(Corpus corpus) {
    long real = 0;
    for (int n : corpus.tokenLengths()) {
      real += Math.min(n, tokenLimit);
    }
    return new TokenCount(real, real);
  }

  @Override
  public void close() {
    // The model holds its ONNX session for the life of the JVM and has no close method.
  }

  private static int readTokenLimit() {
    try (InputStream in = LangchainModel.class.getClassLoader().getResourceAsStream(TOKENIZER_RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(TOKENIZER_RESOURCE + " is not on the classpath");
      }
      JsonNode limit = new ObjectMapper().readTree(in).path("truncation").path("max_length");
      return limit.isInt() ? limit.asInt() : Integer.MAX_VALUE;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + TOKENIZER_RESOURCE, e);
    }
  }
}

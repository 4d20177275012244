package dev.peftembed.bench;

import dev.peftembed.text.TextTokenizer;
import dev.peftembed.text.TokenizedText;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Systems c and d: ONNX Runtime fed by our tokenizer, batched by a {@link BatchPolicy}. The two differ only in the
 * policy, so their ratio isolates batching, and d against a isolates the engine.
 */
final class OrtBatched implements EmbeddingSystem {
  private final String id;
  private final String description;
  private final OrtModel model;
  private final TextTokenizer tokenizer;
  private final BatchPolicy batching;

  /**
   * @param model the shared ORT session; not closed by this system
   * @param tokenizer the shared tokenizer; not closed by this system
   */
  OrtBatched(String id, String description, OrtModel model, TextTokenizer tokenizer, BatchPolicy batching) {
    this.id = id;
    this.description = description;
    this.model = model;
    this.tokenizer = tokenizer;
    this.batching = batching;
  }

  @Override
  public String id() {
    return id;
  }

  @Override
  public String description() {
    return description;
  }

  @Override
  public List<float[]> encode(List<String> texts) {
    List<TokenizedText> tokens = tokenizer.encode(texts);
    int[] lengths = new int[tokens.size()];
    for (int i = 0; i < lengths.length; i++) {
      lengths[i] = tokens.get(i).length();
    }
    float[][] out = new float[texts.size()][];
    for (int[] batch : batching.batches(lengths)) {
      List<TokenizedText> rows = new ArrayList<>(batch.length);
      for (int i : batch) {
        rows.add(tokens.get(i));
      }
      float[][] vectors = model.embed(rows);
      for (int r = 0; r < batch.length; r++) {
        out[batch[r]] = vectors[r];
      }
    }
    return Arrays.asList(out);
  }

  @Override
  public TokenCount tokens(Corpus corpus) {
    return batching.count(corpus.tokenLengths());
  }

  @Override
  public void close() {
    // The session and tokenizer are shared with the other ORT system; their owner closes them.
  }
}

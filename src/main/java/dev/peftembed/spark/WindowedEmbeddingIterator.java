package dev.peftembed.spark;

import dev.peftembed.embed.Embedding;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.function.BiFunction;
import java.util.function.Function;
import org.apache.spark.sql.Row;

/**
 * Streams a partition through the encoder: reads up to {@code window} rows, encodes their texts in one call (the
 * encoder sorts them by length and batches them by token budget), and hands out the extended rows in input order
 * before reading more. At most one window of rows is held, whatever the partition's size, and the encoder is not
 * called at all for an empty partition.
 */
final class WindowedEmbeddingIterator implements Iterator<Row> {
  private final Iterator<Row> input;
  private final int window;
  private final BiFunction<List<String>, List<String>, List<Embedding>> encode;
  private final OutputLayout layout;
  private final List<Row> ready;
  private int next;

  /**
   * @param input the partition's rows
   * @param window the most rows encoded together
   * @param encode texts (some null) to one embedding per text, in order, null for a null text
   * @param layout builds the output rows
   */
  WindowedEmbeddingIterator(Iterator<Row> input, int window, Function<List<String>, List<Embedding>> encode,
      OutputLayout layout) {
    this(input, window, (texts, adapters) -> encode.apply(texts), layout);
  }

  /**
   * @param encode texts (some null) and the adapter each row names ({@code null}: none) to one embedding per text
   */
  WindowedEmbeddingIterator(Iterator<Row> input, int window,
      BiFunction<List<String>, List<String>, List<Embedding>> encode, OutputLayout layout) {
    if (window < 1) {
      throw new IllegalArgumentException("window must be at least 1 row, got " + window);
    }
    this.input = input;
    this.window = window;
    this.encode = encode;
    this.layout = layout;
    this.ready = new ArrayList<>(window);
  }

  @Override
  public boolean hasNext() {
    if (next < ready.size()) {
      return true;
    }
    fill();
    return next < ready.size();
  }

  @Override
  public Row next() {
    if (!hasNext()) {
      throw new NoSuchElementException();
    }
    Row row = ready.get(next);
    // Drop the reference so a window's rows can be collected as soon as they are consumed.
    ready.set(next++, null);
    return row;
  }

  private void fill() {
    ready.clear();
    next = 0;
    List<Row> rows = new ArrayList<>(window);
    while (rows.size() < window && input.hasNext()) {
      rows.add(input.next());
    }
    if (rows.isEmpty()) {
      return;
    }
    List<String> texts = new ArrayList<>(rows.size());
    List<String> adapters = new ArrayList<>(rows.size());
    for (Row row : rows) {
      texts.add(layout.text(row));
      adapters.add(layout.adapter(row));
    }
    List<Embedding> embeddings = encode.apply(texts, adapters);
    if (embeddings.size() != rows.size()) {
      throw new IllegalStateException("the encoder returned " + embeddings.size() + " embeddings for "
          + rows.size() + " texts");
    }
    for (int i = 0; i < rows.size(); i++) {
      ready.add(layout.extend(rows.get(i), embeddings.get(i)));
    }
  }
}

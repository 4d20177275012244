package dev.peftembed.bench;

import java.util.List;

/**
 * One way to turn texts into sentence vectors with all-MiniLM-L6-v2, end to end from strings to normalized vectors,
 * tokenization included. The benchmark times whole passes of {@link #encode} over a corpus.
 */
interface EmbeddingSystem extends AutoCloseable {

  /** @return the letter of the system list: a, b, c or d */
  String id();

  /** @return what the system is, for tables and charts */
  String description();

  /** @return one unit vector per text, in input order */
  List<float[]> encode(List<String> texts);

  /** @return the tokens one {@link #encode} pass over {@code corpus} processes; computed outside any timing */
  TokenCount tokens(Corpus corpus);

  @Override
  void close();
}

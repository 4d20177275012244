package dev.peftembed.join;

import java.util.Collections;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.function.Function;

/**
 * Maps each element to an iterator and concatenates them, pulling the next element only when the current iterator is
 * spent. ({@code Stream.flatMap(...).iterator()} buffers each element's whole output, which for a block is every
 * match it has.)
 */
final class FlatIterator<A, B> implements Iterator<B> {
  private final Iterator<A> source;
  private final Function<A, Iterator<B>> expand;
  private Iterator<B> current = Collections.emptyIterator();

  FlatIterator(Iterator<A> source, Function<A, Iterator<B>> expand) {
    this.source = source;
    this.expand = expand;
  }

  @Override
  public boolean hasNext() {
    while (!current.hasNext()) {
      if (!source.hasNext()) {
        return false;
      }
      current = expand.apply(source.next());
    }
    return true;
  }

  @Override
  public B next() {
    if (!hasNext()) {
      throw new NoSuchElementException();
    }
    return current.next();
  }
}

package dev.peftembed.join;

/** Checks that the two sides of a join can be compared row with row. */
final class Sides {
  private Sides() {}

  /** @throws IllegalArgumentException if the id types or the vector lengths differ */
  static void checkCompatible(EmbeddingTable left, EmbeddingTable right, EmbeddingTable.Stats ls,
      EmbeddingTable.Stats rs) {
    if (!left.idType().equals(right.idType())) {
      throw new IllegalArgumentException("the id columns differ in type: left " + left.idType().simpleString()
          + ", right " + right.idType().simpleString());
    }
    if (ls.vectors() > 0 && rs.vectors() > 0 && ls.dimension() != rs.dimension()) {
      throw new IllegalArgumentException("the vectors differ in length: left " + ls.dimension() + ", right "
          + rs.dimension());
    }
  }
}

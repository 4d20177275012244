package dev.peftembed.join;

import java.util.Iterator;
import java.util.NoSuchElementException;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import scala.Tuple2;

/**
 * Reads the matches out of a block pair's score matrix: into a {@link BlockTopK}, or as a stream of every pair at or
 * above a threshold. A self-join skips each row's pair with itself, found by equal ids (ids are unique).
 */
final class BlockMatches {
  private BlockMatches() {}

  /** Offers every pair of the block pair to the left block's top-k. */
  static void offer(float[] scores, VectorBlock left, VectorBlock right, boolean self, BlockTopK best) {
    int cols = right.rows();
    Object[] rightIds = right.ids();
    Object[] leftIds = left.ids();
    for (int i = 0; i < left.rows(); i++) {
      int base = i * cols;
      float floor = best.floor(i);
      for (int j = 0; j < cols; j++) {
        float s = scores[base + j];
        // The common case, most pairs: below the row's k-th best so far.
        if (s < floor || self && rightIds[j].equals(leftIds[i])) {
          continue;
        }
        best.offer(i, s, rightIds[j]);
        floor = best.floor(i);
      }
    }
  }

  /**
   * Every pair scoring at least {@code minScore}, as rows of left id, right id and score, produced lazily: each block
   * pair is scored when the previous one's pairs are consumed, so a low threshold never holds more than one score
   * matrix.
   */
  static Iterator<Row> above(Iterator<Tuple2<VectorBlock, VectorBlock>> pairs, BlockScorer scorer, float minScore,
      boolean self) {
    return new Iterator<>() {
      private VectorBlock left;
      private VectorBlock right;
      private float[] scores;
      private int next;
      private int end;

      @Override
      public boolean hasNext() {
        while (true) {
          while (next < end) {
            if (scores[next] >= minScore && !(self && identity(next))) {
              return true;
            }
            next++;
          }
          if (!pairs.hasNext()) {
            return false;
          }
          Tuple2<VectorBlock, VectorBlock> pair = pairs.next();
          left = pair._1();
          right = pair._2();
          scores = scorer.score(left, right);
          next = 0;
          end = left.rows() * right.rows();
        }
      }

      private boolean identity(int cell) {
        return left.ids()[cell / right.rows()].equals(right.ids()[cell % right.rows()]);
      }

      @Override
      public Row next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        int i = next / right.rows();
        int j = next % right.rows();
        Row row = RowFactory.create(left.ids()[i], right.ids()[j], scores[next]);
        next++;
        return row;
      }
    };
  }
}

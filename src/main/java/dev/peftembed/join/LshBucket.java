package dev.peftembed.join;

import java.io.Serializable;
import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * The pairs of one LSH bucket, scored exactly, produced lazily so that a large bucket never holds its pairs in
 * memory. A pair is emitted from the first band in which its rows meet and from no other, so no pair is scored twice
 * however many bands it shares.
 */
final class LshBucket {
  private LshBucket() {}

  /** A row of one band's bucket. */
  record Entry(int band, LshMember member) implements Serializable {}

  /** A scored pair: left row, right row, cosine. */
  record Match(Object leftId, float score, Object rightId) implements Serializable {}

  /** Pairs of two sides' rows that share the bucket. */
  static Iterator<Match> across(Entry[] lefts, Entry[] rights, float minScore) {
    return new Pairs(lefts, rights, false, minScore);
  }

  /** Pairs of one table's rows that share the bucket, each scored once and emitted in both directions. */
  static Iterator<Match> within(Entry[] members, float minScore) {
    return new Pairs(members, members, true, minScore);
  }

  private static final class Pairs implements Iterator<Match> {
    private final Entry[] lefts;
    private final Entry[] rights;
    private final boolean within;
    private final float minScore;
    private int i;
    private int j;
    private Match pending;
    private Match mirrored;

    Pairs(Entry[] lefts, Entry[] rights, boolean within, float minScore) {
      this.lefts = lefts;
      this.rights = rights;
      this.within = within;
      this.minScore = minScore;
      this.j = within ? 1 : 0;
    }

    @Override
    public boolean hasNext() {
      if (pending != null) {
        return true;
      }
      if (mirrored != null) {
        pending = mirrored;
        mirrored = null;
        return true;
      }
      while (i < lefts.length) {
        if (j >= rights.length) {
          i++;
          j = within ? i + 1 : 0;
          continue;
        }
        Entry a = lefts[i];
        Entry b = rights[j++];
        // Entries of another band land here only through a 64-bit digest collision.
        if (a.band() != b.band() || a.member().metBefore(b.member(), a.band())) {
          continue;
        }
        float score = a.member().dot(b.member());
        if (score >= minScore) {
          pending = new Match(a.member().id(), score, b.member().id());
          mirrored = within ? new Match(b.member().id(), score, a.member().id()) : null;
          return true;
        }
      }
      return false;
    }

    @Override
    public Match next() {
      if (!hasNext()) {
        throw new NoSuchElementException();
      }
      Match m = pending;
      pending = null;
      return m;
    }
  }
}

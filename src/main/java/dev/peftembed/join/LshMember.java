package dev.peftembed.join;

import java.io.Serializable;

/**
 * A row as the LSH join shuffles it: id, unit vector, and one bucket key per band.
 *
 * @param id {@code Long} or {@code String}
 * @param vector unit length
 * @param bandKeys 64-bit digests of each band's hash values
 */
record LshMember(Object id, float[] vector, long[] bandKeys) implements Serializable {

  /**
   * @return whether the two rows already share a bucket in a band before {@code band}: the pair is then scored
   *     there, and only there, so no pair is scored or emitted twice
   */
  boolean metBefore(LshMember other, int band) {
    for (int b = 0; b < band; b++) {
      if (bandKeys[b] == other.bandKeys[b]) {
        return true;
      }
    }
    return false;
  }

  /** @return the cosine of two unit vectors: exact products, summed in double, four lanes to keep the CPU busy */
  float dot(LshMember other) {
    float[] a = vector;
    float[] b = other.vector;
    double s0 = 0;
    double s1 = 0;
    double s2 = 0;
    double s3 = 0;
    int i = 0;
    for (; i + 3 < a.length; i += 4) {
      s0 += (double) a[i] * b[i];
      s1 += (double) a[i + 1] * b[i + 1];
      s2 += (double) a[i + 2] * b[i + 2];
      s3 += (double) a[i + 3] * b[i + 3];
    }
    for (; i < a.length; i++) {
      s0 += (double) a[i] * b[i];
    }
    return (float) (s0 + s1 + s2 + s3);
  }
}

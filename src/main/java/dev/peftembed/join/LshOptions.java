package dev.peftembed.join;

/**
 * The hash family of the approximate join: MLlib's {@code BucketedRandomProjectionLSH}, whose hashes are grouped into
 * bands. Two rows are candidates when every hash of at least one band agrees: more hashes per band make random pairs
 * rarer candidates (fewer pairs to score), more bands give true neighbours more chances (higher recall).
 *
 * <p>MLlib's own join has one hash per band, which on 384-dimensional embeddings makes most random pairs collide in
 * some table: hardly cheaper than scoring everything.
 *
 * @param bands number of bands (OR), at least 1
 * @param hashesPerBand random projections per band (AND), at least 1
 * @param bucketLength MLlib's bucket length (projection units); {@code null} derives it from the neighbour radius r as
 *     {@code 3·r/√dim}: a pair at distance r then differs by a third of a bucket in a typical projection
 * @param seed seed of the random projections
 */
public record LshOptions(int bands, int hashesPerBand, Double bucketLength, long seed) {

  /** Default bands. */
  public static final int DEFAULT_BANDS = 32;
  /** Default hashes per band. */
  public static final int DEFAULT_HASHES_PER_BAND = 8;

  /** Multiplier of r/√dim in the derived bucket length, tuned on clustered 384-dimensional data. */
  static final double BUCKET_WIDTH_IN_SPREADS = 3.0;

  public LshOptions {
    if (bands < 1 || hashesPerBand < 1) {
      throw new IllegalArgumentException("LSH bands and hashes per band must be at least 1, got " + bands + " and "
          + hashesPerBand);
    }
    if (bucketLength != null && !(bucketLength > 0 && Double.isFinite(bucketLength))) {
      throw new IllegalArgumentException("LSH bucket length must be positive, got " + bucketLength);
    }
  }

  /** 32 bands of 8 hashes, bucket length derived from the data. */
  public static LshOptions defaults() {
    return new LshOptions(DEFAULT_BANDS, DEFAULT_HASHES_PER_BAND, null, 42L);
  }

  public LshOptions withBands(int value) {
    return new LshOptions(value, hashesPerBand, bucketLength, seed);
  }

  public LshOptions withHashesPerBand(int value) {
    return new LshOptions(bands, value, bucketLength, seed);
  }

  /** @param value MLlib's bucket length, or {@code null} to derive it */
  public LshOptions withBucketLength(Double value) {
    return new LshOptions(bands, hashesPerBand, value, seed);
  }

  public LshOptions withSeed(long value) {
    return new LshOptions(bands, hashesPerBand, bucketLength, value);
  }
}

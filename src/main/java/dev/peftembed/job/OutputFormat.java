package dev.peftembed.job;

import java.util.Locale;

/** The output formats {@code embed} writes. */
public enum OutputFormat {
  /** Apache Parquet: the default, compact and typed. */
  PARQUET,
  /** JSON lines, one object per row. */
  JSONL,
  /** A Delta Lake table: transactional, and incremental runs are a MERGE (needs delta-spark, see {@link DeltaLake}). */
  DELTA;

  /** @throws IllegalArgumentException naming the accepted values */
  public static OutputFormat parse(String name) {
    return switch (name.toLowerCase(Locale.ROOT)) {
      case "parquet" -> PARQUET;
      case "jsonl", "json" -> JSONL;
      case "delta" -> DELTA;
      default -> throw new IllegalArgumentException("output format must be parquet, jsonl or delta, got \"" + name
          + "\"");
    };
  }
}

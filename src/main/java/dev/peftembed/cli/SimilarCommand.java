package dev.peftembed.cli;

import dev.peftembed.job.InputFormat;
import dev.peftembed.job.OutputFormat;
import dev.peftembed.join.JoinMethod;
import dev.peftembed.join.JoinOptions;
import dev.peftembed.join.LshOptions;
import dev.peftembed.join.SimilarityJob;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code similar}: similarity joins over the output of {@code embed}, exact or LSH, and near-duplicate clusters.
 * Spark flags as for {@code embed}.
 */
@Command(name = "similar", mixinStandardHelpOptions = true,
    description = {"Join embedding tables by cosine similarity: for each left row, its top k right rows and/or those "
        + "at or above a threshold. Writes left_id, right_id, score, rank.",
        "With --dedup T on one table: clusters of rows linked by cosine >= T. Writes id, cluster_id (the smallest "
            + "id of the cluster), cluster_size, for every row in a cluster of two or more; to deduplicate, keep the "
            + "rows whose id equals their cluster_id and the rows not listed."})
final class SimilarCommand implements Callable<Integer> {
  @Option(names = "--left", required = true, paramLabel = "PATH", description = "embeddings: file or directory")
  String left;

  @Option(names = "--right", paramLabel = "PATH", description = "the other table (default: --left, a self-join, "
      + "which never pairs a row with itself)")
  String right;

  @Option(names = "--input-format", description = "parquet or jsonl (default: by extension or content)")
  String inputFormat;

  @Option(names = "--id-col", defaultValue = "id", description = "id column (default: ${DEFAULT-VALUE})")
  String idCol;

  @Option(names = "--embedding-col", defaultValue = "embedding", description = "vector column: array<float>, "
      + "array<double> or an ML Vector (default: ${DEFAULT-VALUE})")
  String embeddingCol;

  @Option(names = "--k", defaultValue = "0", description = "most matches per left row (default: ${DEFAULT-VALUE}: "
      + "no limit, --threshold alone selects)")
  int k;

  @Option(names = "--threshold", paramLabel = "COSINE", description = "least cosine similarity of a match")
  Double threshold;

  @Option(names = "--dedup", paramLabel = "COSINE", description = "cluster near-duplicates at this cosine instead")
  Double dedup;

  @Option(names = "--method", defaultValue = "exact", description = "exact or lsh (default: ${DEFAULT-VALUE})")
  String method;

  @Option(names = "--output", required = true, paramLabel = "PATH", description = "where to write")
  String output;

  @Option(names = "--output-format", defaultValue = "parquet", description = "parquet or jsonl (default: "
      + "${DEFAULT-VALUE})")
  String outputFormat;

  @Option(names = "--mode", defaultValue = "error", description = "error, overwrite or append (default: "
      + "${DEFAULT-VALUE})")
  String mode;

  @Option(names = "--block-rows", defaultValue = "" + JoinOptions.DEFAULT_BLOCK_ROWS,
      description = "rows per block of the exact join (default: ${DEFAULT-VALUE})")
  int blockRows;

  @Option(names = "--broadcast-mb", defaultValue = "" + (JoinOptions.DEFAULT_BROADCAST_BYTES >> 20),
      description = "broadcast the right side when its vectors take at most this many MiB, else cross-join "
          + "blocks (default: ${DEFAULT-VALUE})")
  long broadcastMb;

  @Option(names = "--lsh-bands", defaultValue = "" + LshOptions.DEFAULT_BANDS, description = "LSH bands: more find more neighbours "
      + "(default: ${DEFAULT-VALUE})")
  int lshBands;

  @Option(names = "--lsh-hashes-per-band", defaultValue = "" + LshOptions.DEFAULT_HASHES_PER_BAND, description = "random projections per band: more "
      + "score fewer pairs (default: ${DEFAULT-VALUE})")
  int lshHashesPerBand;

  @Option(names = "--lsh-bucket-length", description = "MLlib bucket length (default: derived from --threshold, or "
      + "from a sample's k-th neighbours)")
  Double lshBucketLength;

  @Option(names = "--seed", defaultValue = "42", description = "seed of the LSH projections (default: "
      + "${DEFAULT-VALUE})")
  long seed;

  @Mixin
  SparkFlags spark = new SparkFlags();

  @Override
  public Integer call() {
    if (dedup != null && (k > 0 || threshold != null)) {
      throw new IllegalArgumentException("--dedup takes its own threshold: leave out --k and --threshold");
    }
    if (dedup == null && k <= 0 && threshold == null) {
      throw new IllegalArgumentException("select matches with --k, --threshold, or both (or cluster with --dedup)");
    }
    if (broadcastMb < 0 || broadcastMb > Long.MAX_VALUE >> 20) {
      throw new IllegalArgumentException("--broadcast-mb must be between 0 and " + (Long.MAX_VALUE >> 20));
    }
    LshOptions lsh = new LshOptions(lshBands, lshHashesPerBand, lshBucketLength, seed);
    JoinOptions options = new JoinOptions(idCol, embeddingCol, k, threshold,
        JoinMethod.parse(method), blockRows, broadcastMb << 20, lsh, spark.partitions());
    SimilarityJob.Request request = new SimilarityJob.Request(left, right,
        inputFormat == null ? null : InputFormat.parse(inputFormat), options, dedup,
        output, OutputFormat.parse(outputFormat), EmbedCommand.saveMode(mode));
    return spark.withSession(session -> {
      System.out.println(SimilarityJob.run(session, request).toJson());
      return 0;
    });
  }
}

package dev.peftembed.bench;

/**
 * One line of the results: a system on a corpus (or, for e, at a row count; for f, the matmul probe). Figures that do
 * not apply are {@code null} and stay empty in the CSV.
 *
 * @param system the letter: a–f
 * @param description what the system is
 * @param corpus the corpus label, or {@code matmul} for f
 * @param texts texts (rows, for e) per pass
 * @param repetitions timed passes behind the median
 * @param medianSeconds the median pass; for e, job minus empty job
 * @param minSeconds the fastest pass
 * @param maxSeconds the slowest pass
 * @param textsPerSecond texts over the median pass
 * @param realTokensPerSecond real tokens read over the median pass
 * @param paddingEfficiency real tokens over padded positions computed
 * @param modelGflops achieved GFLOP/s counting real tokens only; for f, the measured matmul GFLOP/s
 * @param meanCosVsA mean cosine similarity with system a's vectors
 * @param minCosVsA lowest cosine similarity with system a's vectors
 * @param baselineSeconds for e, the median empty job subtracted
 * @param peakRssMb peak resident memory (heap plus native) of the JVM that ran this system alone
 */
public record ResultRow(
    String system,
    String description,
    String corpus,
    Long texts,
    Integer repetitions,
    Double medianSeconds,
    Double minSeconds,
    Double maxSeconds,
    Double textsPerSecond,
    Double realTokensPerSecond,
    Double paddingEfficiency,
    Double modelGflops,
    Double meanCosVsA,
    Double minCosVsA,
    Double baselineSeconds,
    Double peakRssMb) {}

package dev.peftembed.bench;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The figures the targets are stated in, from one run; a figure whose systems did not run is {@code null}.
 * Ratios are of texts per second, medians against medians.
 *
 * @param aOverB a / b on the mixed corpus (target ≥ 1.2)
 * @param aOverC a / c on the mixed corpus (target ≥ 2.5)
 * @param aOverD a / d on the mixed corpus (target ≥ 1.0)
 * @param aOverBShort a / b on the short corpus (target ≥ 1.5)
 * @param eOverA e at its largest row count (100k in a full run) over a on the same corpus (target ≥ 0.8)
 * @param paddingEfficiency a's real over padded tokens on the mixed corpus (target ≥ 0.9)
 * @param gflopsFraction a's achieved GFLOP/s on mixed over the matmul GFLOP/s of f (target ≥ 0.5)
 * @param peakRssMb peak resident memory of a JVM running system a alone, MiB (target ≤ 2048)
 */
public record Summary(Double aOverB, Double aOverC, Double aOverD, Double aOverBShort, Double eOverA,
    Double paddingEfficiency, Double gflopsFraction, Double peakRssMb) {

  /** The keys of the summary line, in order. */
  public static final List<String> KEYS = List.of("a_over_b", "a_over_c", "a_over_d", "a_over_b_short", "e_over_a",
      "padding_efficiency", "gflops_fraction", "peak_rss_mb");

  private static final ObjectMapper JSON = new ObjectMapper();

  /** Derives the summary from result rows. */
  public static Summary from(List<ResultRow> rows) {
    Optional<ResultRow> e = rows.stream().filter(r -> r.system().equals("e"))
        .max(Comparator.comparing(ResultRow::texts));
    Double eOverA = e.flatMap(row -> find(rows, "a", row.corpus()))
        .map(a -> ratio(e.get().textsPerSecond(), a.textsPerSecond())).orElse(null);
    Double gflops = find(rows, "a", "mixed").map(ResultRow::modelGflops).orElse(null);
    Double peak = rows.stream().filter(r -> r.system().equals("f")).findFirst().map(ResultRow::modelGflops)
        .orElse(null);
    return new Summary(
        textsRatio(rows, "a", "b", "mixed"),
        textsRatio(rows, "a", "c", "mixed"),
        textsRatio(rows, "a", "d", "mixed"),
        textsRatio(rows, "a", "b", "short"),
        eOverA,
        find(rows, "a", "mixed").map(ResultRow::paddingEfficiency).orElse(null),
        ratio(gflops, peak),
        rows.stream().filter(r -> r.system().equals("a") && r.peakRssMb() != null).findFirst()
            .map(ResultRow::peakRssMb).orElse(null));
  }

  /** @return the keys and values, in {@link #KEYS} order, ratios to 3 decimals and megabytes to 1 */
  public Map<String, Object> toMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    List<Double> values = List.of(nan(aOverB), nan(aOverC), nan(aOverD), nan(aOverBShort), nan(eOverA),
        nan(paddingEfficiency), nan(gflopsFraction), nan(peakRssMb));
    for (int i = 0; i < KEYS.size(); i++) {
      double v = values.get(i);
      double scale = KEYS.get(i).equals("peak_rss_mb") ? 10 : 1000;
      m.put(KEYS.get(i), Double.isNaN(v) ? null : Math.round(v * scale) / scale);
    }
    return m;
  }

  /** @return the summary as one line of JSON */
  public String toJson() {
    try {
      return JSON.writeValueAsString(toMap());
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a map of numbers cannot fail to serialize", e);
    }
  }

  private static Double textsRatio(List<ResultRow> rows, String over, String under, String corpus) {
    Optional<ResultRow> a = find(rows, over, corpus);
    Optional<ResultRow> b = find(rows, under, corpus);
    return a.isPresent() && b.isPresent() ? ratio(a.get().textsPerSecond(), b.get().textsPerSecond()) : null;
  }

  private static Optional<ResultRow> find(List<ResultRow> rows, String system, String corpus) {
    return rows.stream().filter(r -> r.system().equals(system) && corpus.equals(r.corpus())).findFirst();
  }

  private static Double ratio(Double over, Double under) {
    return over == null || under == null || under == 0 ? null : over / under;
  }

  /** {@code List.of} refuses nulls; NaN stands for a missing figure until the map is built. */
  private static Double nan(Double d) {
    return d == null ? Double.NaN : d;
  }
}

package dev.peftembed.bench;

import java.io.IOException;
import java.io.Writer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Writes result rows as CSV: one header line, then one line per row, with the run's date and machine on each. */
public final class ResultsCsv {
  /** The columns, in order; their meaning is that of the {@link ResultRow} components. */
  public static final List<String> HEADER = List.of("date", "machine", "system", "description", "corpus", "texts",
      "repetitions", "median_s", "min_s", "max_s", "texts_per_s", "real_tokens_per_s", "padding_efficiency",
      "model_gflops", "mean_cos_vs_a", "min_cos_vs_a", "baseline_s", "peak_rss_mb");

  private ResultsCsv() {}

  /** Writes the header and the rows. */
  public static void write(Writer out, String date, String machine, List<ResultRow> rows) throws IOException {
    out.write(String.join(",", HEADER));
    out.write('\n');
    for (ResultRow r : rows) {
      List<String> cells = new ArrayList<>();
      cells.add(quote(date));
      cells.add(quote(machine));
      cells.add(quote(r.system()));
      cells.add(quote(r.description()));
      cells.add(quote(r.corpus()));
      cells.add(r.texts() == null ? "" : r.texts().toString());
      cells.add(r.repetitions() == null ? "" : r.repetitions().toString());
      for (Double d : List.of(nullable(r.medianSeconds()), nullable(r.minSeconds()), nullable(r.maxSeconds()),
          nullable(r.textsPerSecond()), nullable(r.realTokensPerSecond()), nullable(r.paddingEfficiency()),
          nullable(r.modelGflops()), nullable(r.meanCosVsA()), nullable(r.minCosVsA()),
          nullable(r.baselineSeconds()), nullable(r.peakRssMb()))) {
        cells.add(Double.isNaN(d) ? "" : String.format(Locale.ROOT, "%.6g", d));
      }
      out.write(String.join(",", cells));
      out.write('\n');
    }
  }

  /** Missing figures travel as NaN through {@code List.of}, which refuses nulls. */
  private static Double nullable(Double d) {
    return d == null ? Double.NaN : d;
  }

  /** Quotes a text cell when it holds a comma, a quote or a line break (RFC 4180). */
  static String quote(String s) {
    if (s == null) {
      return "";
    }
    if (s.contains(",") || s.contains("\"") || s.contains("\n")) {
      return "\"" + s.replace("\"", "\"\"") + "\"";
    }
    return s;
  }
}

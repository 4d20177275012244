package dev.peftembed.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.PrintStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Publishes one run: tables on stdout, then {@code <date>-<machine>.csv}, {@code .png} and {@code .json} (the
 * summary with the machine line) in the output directory, and as the very last stdout line the summary JSON.
 */
final class BenchReport {
  private final BenchSettings settings;
  private final MachineInfo machine;
  private final String date;
  private final BenchRun.Outcome outcome;
  private final Summary summary;

  BenchReport(BenchSettings settings, MachineInfo machine, String date, BenchRun.Outcome outcome) {
    this.settings = settings;
    this.machine = machine;
    this.date = date;
    this.outcome = outcome;
    this.summary = Summary.from(outcome.rows());
  }

  /** Prints the tables, writes the files, and prints the summary line last. */
  void publish(PrintStream out) throws IOException {
    out.println("machine " + machine.line());
    out.println("settings: corpora " + settings.corpusSizes() + ", " + settings.repetitions()
        + " timed rounds after one warm-up, medians; seed " + settings.seed());
    if (settings.repetitions() < BenchSettings.DEFAULT_REPETITIONS) {
      out.println("NOTE: fewer than " + BenchSettings.DEFAULT_REPETITIONS + " repetitions: a smoke run, not figures "
          + "to publish");
    }
    out.println();
    out.print(mainTable());
    out.println("GFLOP/s count real tokens only: FLOPs(L) = layers·(8·L·H² + 4·L·H·I + 4·L²·H) per text of L"
        + " tokens; shown where a system reads every token.");
    if (!outcome.memory().isEmpty()) {
      out.println();
      out.print(memoryTable());
    }
    if (outcome.spark() != null) {
      out.println();
      out.print(sparkTable());
      sparkScaling().forEach(out::println);
    }
    Path base = settings.outDir().resolve(date + "-" + settings.machine());
    Files.createDirectories(settings.outDir());
    Path csv = Path.of(base + ".csv");
    try (Writer w = Files.newBufferedWriter(csv, StandardCharsets.UTF_8)) {
      ResultsCsv.write(w, date, settings.machine(), outcome.rows());
    }
    Path png = Path.of(base + ".png");
    ThroughputChart.write(png, machine.host() + ", " + machine.cores() + " cores, " + date, outcome.rows());
    Path json = Path.of(base + ".json");
    writeJson(json);
    out.println();
    out.println("wrote " + csv + ", " + png + ", " + json);
    out.println(summary.toJson());
    out.flush();
  }

  private String mainTable() {
    TextTable t = new TextTable(2, List.of("system", "corpus", "texts", "median s", "min–max s", "texts/s",
        "real tok/s", "pad eff", "GFLOP/s", "cos vs a (mean/min)", "peak RSS MiB"));
    for (ResultRow r : outcome.rows()) {
      if (r.system().equals("e")) {
        continue;
      }
      t.add(List.of(r.system() + " " + r.description(), r.corpus(), r.texts() == null ? "-" : r.texts().toString(),
          TextTable.num(r.medianSeconds(), 3),
          TextTable.num(r.minSeconds(), 2) + "–" + TextTable.num(r.maxSeconds(), 2),
          TextTable.num(r.textsPerSecond(), 1), TextTable.num(r.realTokensPerSecond(), 0),
          TextTable.num(r.paddingEfficiency(), 3), TextTable.num(r.modelGflops(), 1),
          r.meanCosVsA() == null ? "-" : TextTable.num(r.meanCosVsA(), 4) + "/" + TextTable.num(r.minCosVsA(), 4),
          TextTable.num(r.peakRssMb(), 0)));
    }
    return t.toString();
  }

  private String memoryTable() {
    TextTable t = new TextTable(1, List.of("resident memory, MiB (one JVM per system)", "loaded", "after warm-up",
        "at end", "peak"));
    outcome.memory().forEach((id, m) -> t.add(List.of("system " + id, TextTable.num(m.loadedMb(), 0),
        TextTable.num(m.afterWarmUpMb(), 0), TextTable.num(m.endMb(), 0), TextTable.num(m.peakMb(), 0))));
    return t.toString();
  }

  private String sparkTable() {
    SparkStageBench.Result spark = outcome.spark();
    TextTable t = new TextTable(1, List.of("e: Spark stage, " + settings.sparkCorpus().label() + " rows",
        "partitions", "job s", "empty job s", "stage s", "s per 1k rows", "rows/s", "peak RSS MiB",
        "RSS after MiB", "heap committed MiB"));
    for (SparkStageBench.Run r : spark.runs()) {
      t.add(List.of(Long.toString(r.rows()), Integer.toString(r.partitions()), TextTable.num(r.jobSeconds(), 2),
          TextTable.num(r.baselineSeconds(), 2), TextTable.num(r.stageSeconds(), 2),
          TextTable.num(r.stageSeconds() * 1000 / r.rows(), 3), TextTable.num(r.rowsPerSecond(), 1),
          TextTable.num(r.peakRssMb(), 0), TextTable.num(r.rssAfterMb(), 0), TextTable.num(r.heapCommittedMb(), 0)));
    }
    return String.format(Locale.ROOT, "first job, %d rows, model load included: %.1f s (not counted)%n",
        spark.firstJobRows(), spark.firstJobSeconds()) + t;
  }

  /**
   * The two scaling claims, each as a number: stage time against rows (linear: the time ratio equals the row ratio)
   * and executor memory (flat: the peak does not grow with rows), between the second-largest and largest row count
   * (10k and 100k in a full run).
   */
  private List<String> sparkScaling() {
    List<SparkStageBench.Run> runs = outcome.spark().runs();
    if (runs.size() < 2) {
      return List.of();
    }
    SparkStageBench.Run big = runs.get(runs.size() - 1);
    SparkStageBench.Run small = runs.stream().filter(r -> r.rows() * 10 <= big.rows()).reduce((x, y) -> y)
        .orElse(runs.get(runs.size() - 2));
    return List.of(
        String.format(Locale.ROOT, "scaling: %d → %d rows is ×%.1f rows and ×%.2f stage time (linear: equal)",
            small.rows(), big.rows(), (double) big.rows() / small.rows(), big.stageSeconds() / small.stageSeconds()),
        String.format(Locale.ROOT,
            "executor memory: peak RSS %.0f MiB at %d rows, %.0f MiB at %d rows (%+.0f MiB; flat: ≈ 0)",
            small.peakRssMb(), small.rows(), big.peakRssMb(), big.rows(), big.peakRssMb() - small.peakRssMb()));
  }

  private void writeJson(Path file) throws IOException {
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("date", date);
    doc.put("machine", machine.line());
    Map<String, Object> run = new LinkedHashMap<>();
    run.put("corpora", settings.corpusSizes());
    run.put("repetitions", settings.repetitions());
    run.put("seed", settings.seed());
    doc.put("settings", run);
    doc.put("summary", summary.toMap());
    Optional.ofNullable(outcome.spark()).ifPresent(s -> doc.put("spark", s));
    new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(file.toFile(), doc);
  }
}

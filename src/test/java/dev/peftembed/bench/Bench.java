package dev.peftembed.bench;

import java.nio.file.Path;
import java.time.LocalDate;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code scripts/bench}: throughput of our encoder against its peers on this machine, in one run. See the README's
 * Performance section for what each system is and how the figures are computed.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
    description = {
        "Benchmarks all-MiniLM-L6-v2 end to end (strings in, unit vectors out) on generated corpora:",
        "  a ours in-process  b langchain4j  c ORT, batches of 32 in input order  d ORT on our batches",
        "  e our Spark stage on local[2]  f fp32 matmul peak through libtorch",
        "Prints tables, writes <out>/<date>-<machine>.csv/.png/.json; the last stdout line is the summary JSON."})
public final class Bench implements Callable<Integer> {

  @Option(names = "--quick", description = "Small inputs (under 3 minutes on 2 cores); flags below still win.")
  boolean quick;

  @Option(names = "--systems", split = ",", paramLabel = "ID",
      description = "Systems to run (default: a,b,c,d,e,f).")
  List<String> systems = BenchSettings.ALL_SYSTEMS;

  @Option(names = "--corpora", split = ",", paramLabel = "KIND",
      description = "Corpora for a–d, in run order (default: short,mixed,long).")
  List<String> corpora = List.of("short", "mixed", "long");

  @Option(names = "--texts", paramLabel = "N",
      description = "Texts in the short and mixed corpora (default 500; quick 100).")
  Integer texts;

  @Option(names = "--long-texts", paramLabel = "N", description = "Texts in the long corpus (default 100; quick 20).")
  Integer longTexts;

  @Option(names = "--reps", paramLabel = "N",
      description = "Timed rounds after the warm-up; figures are medians (default 5).")
  int repetitions = BenchSettings.DEFAULT_REPETITIONS;

  @Option(names = "--spark-rows", split = ",", paramLabel = "N",
      description = "Row counts for e (default 1000,10000,20000,100000; quick 1000,5000).")
  long[] sparkRows;

  @Option(names = "--spark-corpus", paramLabel = "KIND", description = "Corpus of e's rows (default short).")
  String sparkCorpus = "short";

  @Option(names = "--seed", description = "Corpus seed (default ${DEFAULT-VALUE}).")
  long seed = CorpusGenerator.DEFAULT_SEED;

  @Option(names = "--max-rss-mb", paramLabel = "MiB",
      description = "Stop a benchmark JVM whose resident memory passes this, failing the run (default 8192).")
  double maxRssMb = BenchSettings.DEFAULT_MAX_RSS_MB;

  @Option(names = "--out", paramLabel = "DIR", description = "Output directory (default ${DEFAULT-VALUE}).")
  Path out = Path.of("bench", "results");

  @Option(names = "--machine", paramLabel = "NAME", description = "Machine name in file names (default: host name).")
  String machine;

  @Option(names = "--architectures", description = {"Instead of the systems: our encoder on base-size random-weight",
      "BERT, XLM-RoBERTa, DistilBERT and MPNet, on --texts (default 100) of the first --corpora kind, median of",
      "--reps."})
  boolean architectures;

  /** Runs the benchmark; exits 0 when every selected system ran. */
  public static void main(String[] args) {
    System.exit(new CommandLine(new Bench()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    if (architectures) {
      new ArchitectureBench(BenchModel.resolveDefault(), Path.of("target", "bench-architectures"))
          .run(CorpusKind.parse(corpora.get(0)), texts != null ? texts : 100, repetitions, seed, System.out);
      return 0;
    }
    MachineInfo info = MachineInfo.current();
    BenchSettings settings = settings(info);
    BenchRun.Outcome outcome = new BenchRun(settings).execute();
    new BenchReport(settings, info, LocalDate.now().toString(), outcome).publish(System.out);
    return 0;
  }

  /** Combines the preset (full or quick) with the flags given. */
  BenchSettings settings(MachineInfo info) {
    Set<String> selected = new LinkedHashSet<>(systems);
    int shortAndMixed = texts != null ? texts : quick ? BenchSettings.QUICK_TEXTS : BenchSettings.FULL_TEXTS;
    int longCount = longTexts != null ? longTexts
        : quick ? BenchSettings.QUICK_LONG_TEXTS : BenchSettings.FULL_LONG_TEXTS;
    Map<CorpusKind, Integer> sizes = new LinkedHashMap<>();
    for (String label : corpora) {
      CorpusKind kind = CorpusKind.parse(label);
      sizes.put(kind, kind == CorpusKind.LONG ? longCount : shortAndMixed);
    }
    CorpusKind sparkKind = CorpusKind.parse(sparkCorpus);
    // e/a compares the stage with system a on the same corpus, so a must have run on it.
    if (selected.contains("e") && selected.contains("a") && !sizes.containsKey(sparkKind)) {
      sizes.put(sparkKind, sparkKind == CorpusKind.LONG ? longCount : shortAndMixed);
    }
    long[] rows = sparkRows != null ? sparkRows
        : quick ? BenchSettings.QUICK_SPARK_ROWS : BenchSettings.FULL_SPARK_ROWS;
    return new BenchSettings(selected, sizes, repetitions, rows, sparkKind, seed, maxRssMb, out,
        machine != null ? machine : info.fileSafeHost());
  }
}

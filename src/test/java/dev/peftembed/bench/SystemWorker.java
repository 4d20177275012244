package dev.peftembed.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Worker JVM: holds one system (a–d, or the matmul probe f) and runs timed passes when the parent asks, so that the
 * parent can interleave systems that each live alone in their own process, as a user would run them. Engines in one
 * process disturb each other: their thread pools, OpenMP runtimes and malloc state are process-wide, and the kernel's
 * peak memory of a process that holds them all says nothing about any one of them.
 *
 * <p>Protocol: the worker reads one JSON {@link Command} per line on stdin and answers with one line on stdout,
 * {@value #PREFIX} followed by JSON ({@link Ready} once, after loading, then a {@link Reply} per command). Anything a
 * library prints goes to stderr.
 */
public final class SystemWorker {
  /** Marks protocol lines on the worker's stdout. */
  static final String PREFIX = "@bench ";

  /** The id of the matmul probe, which runs {@link MatmulPeak} instead of encoding texts. */
  static final String MATMUL = "f";

  private static final Logger LOG = LoggerFactory.getLogger(SystemWorker.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * @param system a, b, c, d or f
   * @param corpora texts per corpus label; the worker generates the same corpora as the parent
   * @param seed the corpus seed
   * @param maxRssMb the resident memory past which the worker stops itself
   */
  public record Start(String system, Map<String, Integer> corpora, long seed, double maxRssMb) {}

  /**
   * @param system the system's letter
   * @param description what the system is
   * @param tokens per corpus label, the tokens one pass processes
   * @param rssMb resident memory once loaded, before any text
   */
  public record Ready(String system, String description, Map<String, TokenCount> tokens, double rssMb) {}

  /**
   * @param op {@code pass} (one timed pass over {@code corpus}; for f, one matmul run), {@code stats}, or
   *     {@code quit}
   * @param corpus the corpus label of a pass
   * @param vectorsFile where to write the pass's vectors, or {@code null} not to
   */
  public record Command(String op, String corpus, String vectorsFile) {}

  /**
   * @param seconds the pass's wall time (0 for {@code stats})
   * @param rssMb resident memory after the command
   * @param peakRssMb the kernel's peak resident memory of the worker so far
   */
  public record Reply(double seconds, double rssMb, double peakRssMb) {}

  private SystemWorker() {}

  /** Entry point: {@code SystemWorker START.json}, then commands on stdin. */
  public static void main(String[] args) {
    PrintStream protocol = System.out;
    System.setOut(System.err);
    int status = 1;
    try {
      serve(JSON.readValue(Path.of(args[0]).toFile(), Start.class), protocol);
      status = 0;
    } catch (IOException | RuntimeException e) {
      LOG.error("the benchmark worker failed", e);
    }
    System.exit(status);
  }

  private static void serve(Start start, PrintStream protocol) throws IOException {
    MemoryGuard.watch(start.maxRssMb(), "system " + start.system());
    BenchModel model = BenchModel.resolveDefault();
    Map<String, Corpus> corpora = new LinkedHashMap<>();
    if (!start.system().equals(MATMUL)) {
      CorpusGenerator generator = model.generator(start.seed());
      start.corpora().forEach((label, n) -> corpora.put(label, generator.corpus(CorpusKind.parse(label), n)));
    }
    try (SystemRegistry registry = new SystemRegistry(model);
        MatmulPeak matmul = start.system().equals(MATMUL) ? new MatmulPeak() : null) {
      EmbeddingSystem system = matmul == null ? registry.open(start.system()) : null;
      Map<String, TokenCount> tokens = new LinkedHashMap<>();
      corpora.forEach((label, corpus) -> tokens.put(label, system.tokens(corpus)));
      String description = system != null ? system.description()
          : "fp32 matmul " + MatmulPeak.SIZE + "³ through libtorch";
      answer(protocol, new Ready(start.system(), description, tokens, ProcessMemory.rssMb()));
      BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        Command command = JSON.readValue(line, Command.class);
        switch (command.op()) {
          case "pass" -> answer(protocol, new Reply(pass(command, system, matmul, corpora), ProcessMemory.rssMb(),
              ProcessMemory.peakRssMb()));
          case "stats" -> answer(protocol, new Reply(0, ProcessMemory.rssMb(), ProcessMemory.peakRssMb()));
          case "quit" -> {
            return;
          }
          default -> throw new IllegalArgumentException("unknown worker command: " + line);
        }
      }
    }
  }

  /** One timed pass, after a full GC so that no pass pays for the previous one's garbage. */
  private static double pass(Command command, EmbeddingSystem system, MatmulPeak matmul, Map<String, Corpus> corpora)
      throws IOException {
    System.gc();
    if (matmul != null) {
      return matmul.runOnce();
    }
    Corpus corpus = corpora.get(command.corpus());
    if (corpus == null) {
      throw new IllegalArgumentException("this worker has no corpus " + command.corpus());
    }
    long start = System.nanoTime();
    List<float[]> vectors = system.encode(corpus.texts());
    double seconds = (System.nanoTime() - start) / 1e9;
    if (command.vectorsFile() != null) {
      VectorFile.write(Path.of(command.vectorsFile()), vectors);
    }
    return seconds;
  }

  private static void answer(PrintStream protocol, Object message) throws IOException {
    protocol.println(PREFIX + JSON.writeValueAsString(message));
    protocol.flush();
  }
}

package dev.peftembed.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.peftembed.job.EmbedJob;
import dev.peftembed.job.InputFormat;
import dev.peftembed.job.JobSummary;
import dev.peftembed.job.OutputFormat;
import dev.peftembed.job.OutputTable;
import dev.peftembed.runtime.CacheHome;
import dev.peftembed.spark.PeftEmbedder;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;

/**
 * The no-argument run: embeds the bundled sample corpus (sentences written for this project, with paraphrase
 * pairs), prints nearest neighbours of a few sentences, then the summary line.
 */
final class Demo {
  private static final String CORPUS = "samples/corpus.jsonl";
  private static final List<String> QUERY_TOPICS = List.of("cooking", "programming", "astronomy");
  private static final int NEIGHBOURS = 3;

  private Demo() {}

  static int run(SparkSession spark, PeftEmbedder stage, String output, OutputFormat format, SaveMode mode,
      long progressSeconds) {
    Path dir = CacheHome.get().resolve("demo");
    Path corpus = extractCorpus(dir);
    // The demo's own output is replaced on every run; an explicit --output keeps the --mode rules.
    String out = output != null ? output : dir.resolve("embeddings").toString();
    SaveMode effective = output != null ? mode : SaveMode.Overwrite;
    JobSummary summary = EmbedJob.run(spark, new EmbedJob.Request(corpus.toString(), InputFormat.JSONL, "text",
        "id", out, format, effective, stage, progressSeconds));
    printNeighbours(spark, corpus, out, format);
    System.out.println("embeddings written to " + out);
    System.out.println(summary.toJson());
    return 0;
  }

  private static Path extractCorpus(Path dir) {
    try (InputStream in = Demo.class.getClassLoader().getResourceAsStream(CORPUS)) {
      if (in == null) {
        throw new IllegalStateException("the sample corpus " + CORPUS + " is missing from the classpath");
      }
      Files.createDirectories(dir);
      Path target = dir.resolve("corpus.jsonl");
      Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
      return target;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the demo corpus under " + dir + ": " + e.getMessage(), e);
    }
  }

  private static void printNeighbours(SparkSession spark, Path corpus, String out, OutputFormat format) {
    Map<Long, JsonNode> rows = readCorpus(corpus);
    Map<Long, float[]> vectors = new LinkedHashMap<>();
    var written = OutputTable.read(spark, format, out, null);
    for (Row r : written.select("id", "embedding").collectAsList()) {
      if (!r.isNullAt(1)) {
        vectors.put(((Number) r.get(0)).longValue(), toFloats(r.getSeq(1)));
      }
    }
    System.out.println("nearest neighbours by cosine similarity:");
    for (String topic : QUERY_TOPICS) {
      rows.values().stream().filter(n -> topic.equals(n.path("topic").asText()) && n.has("pair")).findFirst()
          .ifPresent(q -> printQuery(q, rows, vectors));
    }
  }

  private static void printQuery(JsonNode query, Map<Long, JsonNode> rows, Map<Long, float[]> vectors) {
    long id = query.get("id").asLong();
    float[] q = vectors.get(id);
    if (q == null) {
      return;
    }
    System.out.println("  #" + id + " " + query.get("text").asText());
    List<Map.Entry<Long, Double>> scored = new ArrayList<>();
    vectors.forEach((other, v) -> {
      if (other != id) {
        scored.add(Map.entry(other, dot(q, v)));
      }
    });
    scored.sort((a, b) -> Double.compare(b.getValue(), a.getValue()));
    for (Map.Entry<Long, Double> e : scored.subList(0, Math.min(NEIGHBOURS, scored.size()))) {
      System.out.println(String.format(Locale.ROOT, "      %.3f  #%d %s", e.getValue(), e.getKey(),
          rows.get(e.getKey()).get("text").asText()));
    }
  }

  private static Map<Long, JsonNode> readCorpus(Path corpus) {
    ObjectMapper json = new ObjectMapper();
    Map<Long, JsonNode> rows = new LinkedHashMap<>();
    try {
      for (String line : Files.readAllLines(corpus, StandardCharsets.UTF_8)) {
        JsonNode n = json.readTree(line);
        rows.put(n.get("id").asLong(), n);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return rows;
  }

  private static float[] toFloats(scala.collection.Seq<Object> seq) {
    float[] out = new float[seq.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = ((Number) seq.apply(i)).floatValue();
    }
    return out;
  }

  private static double dot(float[] a, float[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += (double) a[i] * b[i];
    }
    return s;
  }
}

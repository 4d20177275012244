package dev.peftembed.cli

import com.fasterxml.jackson.databind.{JsonNode, ObjectMapper}
import dev.peftembed.join.JoinData
import dev.peftembed.testkit.{Console, LocalSparkSession, ScratchSpace}
import java.nio.file.{Files, Path}
import org.apache.spark.sql.DataFrame
import org.scalatest.funsuite.AnyFunSuite
import scala.jdk.CollectionConverters._

/**
 * `peft-embed similar` in process, on what `peft-embed embed` writes for the bundled sample corpus (331 sentences,
 * 108 paraphrase pairs) plus planted near-duplicates: ranks, thresholds, both methods, dedup, the summary line and
 * the errors.
 */
class SimilarCommandSuite extends AnyFunSuite with LocalSparkSession with ScratchSpace {
  private val json = new ObjectMapper()
  private lazy val dir: Path = scratch.dir("similar-command")

  private lazy val corpus: Seq[JsonNode] =
    scala.io.Source.fromResource("samples/corpus.jsonl")(scala.io.Codec.UTF8).getLines().map(json.readTree).toSeq
  private def text(id: Long): String = corpus.find(_.get("id").asLong == id).get.get("text").asText

  /** Near-duplicates of a few corpus rows: same tokens, changed case or spacing, or one word or mark changed. */
  private lazy val planted: Map[Long, (Long, String)] = Map(
    1001L -> (1L, text(1) + " "), 1002L -> (1L, text(1).toUpperCase), 1003L -> (3L, text(3).stripSuffix(".")),
    0L -> (6L, text(6) + "!"), 1005L -> (10L, text(10).replace(" the ", " a ")))
  private lazy val plantedClusters: Set[Set[Long]] =
    planted.groupBy(_._2._1).map { case (original, copies) => copies.keySet + original }.toSet

  /** The corpus and the planted rows, embedded by the embed command into JSON lines (vectors read back as doubles). */
  private lazy val embedded: Path = {
    val input = dir.resolve("texts.jsonl")
    Files.write(input, (corpus.map(n => (n.get("id").asLong, n.get("text").asText)) ++
      planted.map { case (id, (_, t)) => (id, t) }).map { case (id, t) =>
      json.writeValueAsString(Map("id" -> id, "text" -> t).asJava)
    }.asJava)
    val out = dir.resolve("embedded")
    val (code, _, err) = Console.capture(Main.run("embed", "--input", input.toString, "--output", out.toString,
      "--output-format", "jsonl", "--master", "local[2]"))
    assert(code == 0, err)
    out
  }

  /** The corpus rows alone, as Parquet. */
  private lazy val corpusOnly: Path = {
    val out = dir.resolve("corpus.parquet")
    spark.read.json(embedded.toString).filter("id BETWEEN 1 AND 331").write.parquet(out.toString)
    out
  }

  private lazy val vectors: Map[Long, Array[Double]] = spark.read.json(embedded.toString).collect()
    .map(r => r.getAs[Long]("id") -> r.getSeq[Double](r.fieldIndex("embedding")).toArray).toMap

  private def similar(args: String*): (JsonNode, DataFrame) = {
    val out = dir.resolve(s"out-${System.nanoTime()}")
    val (code, stdout, err) = Console.capture(Main.run(("similar" +: args) ++ Seq("--output", out.toString,
      "--master", "local[2]"): _*))
    assert(code == 0, err)
    val summary = json.readTree(stdout.trim.linesIterator.toSeq.last)
    val format = args.sliding(2).collectFirst { case Seq("--output-format", f) => f }.getOrElse("parquet")
    (summary, if (format == "jsonl") spark.read.json(out.toString) else spark.read.parquet(out.toString))
  }

  /** Rows whose paraphrase partner is their rank-1 match. */
  private def partnersFirst(pairs: DataFrame): Int = {
    val first = pairs.filter("rank = 1").collect().map(r => r.getAs[Long]("left_id") -> r.getAs[Long]("right_id"))
      .toMap
    corpus.count(n => n.has("pair") && first.get(n.get("id").asLong).contains(n.get("pair").asLong))
  }

  private lazy val withPartner = corpus.count(_.has("pair"))

  /** The same figure by brute force in double over the same vectors: what the model achieves. */
  private lazy val partnersFirstByBruteForce: Int = corpus.count { n =>
    val id = n.get("id").asLong
    n.has("pair") && (1L to 331L).filter(_ != id).maxBy(o => JoinData.dot(vectors(id), vectors(o))) ==
      n.get("pair").asLong
  }

  test("exact top 1 on embed's output: paraphrase partners find each other as often as the model allows") {
    val (summary, pairs) = similar("--left", corpusOnly.toString, "--k", "1", "--output-format", "jsonl")
    assert(summary.get("task").asText == "join" && summary.get("method").asText == "exact")
    assert(summary.get("plan").asText == "broadcast" && summary.get("pairs").asLong == 331)
    assert(summary.get("left_rows").asLong == 331 && summary.get("right_rows").asLong == 331)
    assert(summary.get("skipped_rows").asLong == 0 && summary.has("seconds"))
    assert(pairs.filter("left_id = right_id").count() == 0)
    val found = partnersFirst(pairs)
    info(s"paraphrase partner at rank 1: $found of $withPartner (brute force: $partnersFirstByBruteForce)")
    assert(found == partnersFirstByBruteForce && found >= 0.9 * withPartner)
  }

  test("LSH top 1 on the same: the figure and its recall against exact are reported") {
    // Nearest neighbours in this small corpus are far (median cosine 0.5, random pairs 0.04): six hashes per band
    // instead of eight trade candidates for recall.
    val (summary, pairs) = similar("--left", corpusOnly.toString, "--k", "1", "--method", "lsh",
      "--lsh-hashes-per-band", "6")
    assert(summary.get("method").asText == "lsh" && summary.get("plan").asText == "lsh")
    val (_, exact) = similar("--left", corpusOnly.toString, "--k", "1")
    val recall = pairs.join(exact, Seq("left_id", "right_id")).count().toDouble / exact.count()
    val found = partnersFirst(pairs)
    info(f"LSH: paraphrase partner at rank 1: $found of $withPartner; recall@1 against exact $recall%.3f, " +
      f"${summary.get("seconds").asDouble}%.1f s")
    assert(recall >= 0.85 && pairs.filter("left_id = right_id").count() == 0)
  }

  test("threshold join of two tables: every planted variant finds its original, nothing below the threshold") {
    val variants = dir.resolve("variants.parquet")
    spark.read.json(embedded.toString).filter("id = 0 OR id > 1000").write.parquet(variants.toString)
    val (summary, pairs) = similar("--left", variants.toString, "--right", corpusOnly.toString, "--threshold", "0.9",
      "--output-format", "jsonl")
    assert(summary.get("left_rows").asLong == planted.size && summary.get("right_rows").asLong == 331)
    val got = pairs.collect().map(r => (r.getAs[Long]("left_id"), r.getAs[Long]("right_id"), r.getAs[Long]("rank")))
    assert(got.map(p => (p._1, p._2)).toSet == planted.map { case (id, (original, _)) => (id, original) }.toSet)
    assert(got.forall(_._3 == 1) && summary.get("pairs").asLong == planted.size)
  }

  test("--dedup on embed's output: exactly the planted clusters, each named by its smallest id") {
    val (summary, clusters) = similar("--left", embedded.toString, "--dedup", "0.9")
    assert(summary.get("task").asText == "dedup" && summary.get("clusters").asLong == plantedClusters.size)
    assert(summary.get("clustered_rows").asLong == plantedClusters.toSeq.map(_.size).sum)
    val got = clusters.collect().groupBy(_.getAs[Long]("cluster_id")).map { case (rep, rows) =>
      val ids = rows.map(_.getAs[Long]("id")).toSet
      assert(rep == ids.min && rows.forall(_.getAs[Long]("cluster_size") == ids.size))
      ids
    }.toSet
    assert(got == plantedClusters)
  }

  test("errors the user can fix are one line and exit code 2, before any output is written") {
    val left = corpusOnly.toString
    def error(args: String*): String = {
      val out = dir.resolve(s"err-${System.nanoTime()}")
      val (code, _, err) = Console.capture(Main.run(("similar" +: args) ++ Seq("--output", out.toString): _*))
      assert(code == 2 && !Files.exists(out), err)
      err.linesIterator.filter(_.startsWith("peft-embed:")).toSeq.mkString("\n")
    }
    assert(error("--left", left) ==
      "peft-embed: error: select matches with --k, --threshold, or both (or cluster with --dedup)")
    assert(error("--left", left, "--right", embedded.toString, "--dedup", "0.9") ==
      "peft-embed: error: --dedup clusters one table: leave out --right")
    assert(error("--left", left, "--k", "3", "--embedding-col", "vec") ==
      "peft-embed: error: embedding column \"vec\" not found; the table has columns [embedding, id, num_tokens, " +
        "truncated]")
    assert(error("--left", left, "--k", "3", "--method", "nearest") ==
      "peft-embed: error: method must be exact or lsh, got \"nearest\"")
    assert(error("--left", left, "--k", "3", "--output-format", "delta") ==
      "peft-embed: error: similar writes parquet or jsonl, not delta")
    val csv = Files.writeString(dir.resolve("e.csv"), "id,embedding\n1,x\n")
    assert(error("--left", csv.toString, "--k", "1") ==
      s"peft-embed: error: $csv: similar reads parquet or jsonl embeddings, not csv")
    val (code, _, err) = Console.capture(Main.run("similar", "--left", left, "--k", "1", "--output", left))
    assert(code == 2 && err.contains(s"$left: output already exists (use --mode overwrite or append)"))
  }

}

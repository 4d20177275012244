package dev.peftembed.spark

import dev.peftembed.embed.{EncoderOptions, SentenceEncoder}
import dev.peftembed.testkit.{LocalSparkSession, TestModels, Texts}
import java.nio.file.{Files, Path}
import org.scalatest.funsuite.AnyFunSuite
import scala.jdk.CollectionConverters._
import scala.util.Using

/**
 * The same input and options give the same vectors: bit for bit across encoder instances and Spark jobs, within 1e-5
 * across partitionings (which change the batches, hence the padding, hence the order of float additions), and
 * nothing on the way draws a random number.
 */
class DeterminismSuite extends AnyFunSuite with LocalSparkSession {
  private val model = TestModels.miniLm
  private val options = EncoderOptions.defaults().withDevice("cpu", "float32").withMaxSeqLength(64)
  private val texts: Seq[String] =
    (Texts.handPicked ++ Texts.generated(model.dir.resolve("tokenizer.json"), 240, seed = 5)).toVector

  private def bits(v: Array[Float]): Seq[Int] = v.toSeq.map(java.lang.Float.floatToRawIntBits)

  private def encodeWithNewEncoder(): Seq[Array[Float]] =
    Using.resource(SentenceEncoder.load(model.dir, null, options))(_.encode(texts.asJava).asScala.map(_.vector).toSeq)

  test("two encoder instances give bitwise-identical vectors") {
    val first = encodeWithNewEncoder()
    val second = encodeWithNewEncoder()
    assert(first.size == texts.size)
    first.zip(second).zip(texts).foreach { case ((a, b), t) => assert(bits(a) == bits(b), t) }
  }

  private def viaSpark(partitions: Int): Map[Long, Array[Float]] = {
    val df = spark.createDataFrame(texts.zipWithIndex.map { case (t, i) => (i.toLong, t) }).toDF("id", "text")
      .repartition(partitions)
    assert(df.rdd.getNumPartitions == partitions)
    new PeftEmbedder().setModelPath(model.dir.toString).setMaxSeqLength(64).setBatchSize(16).transform(df)
      .select("id", "embedding").collect()
      .map(r => r.getLong(0) -> r.getSeq[Float](1).toArray).toMap
  }

  test("two Spark jobs over the same partitions give bitwise-identical vectors") {
    val first = viaSpark(7)
    val second = viaSpark(7)
    assert(first.keySet == texts.indices.map(_.toLong).toSet)
    first.foreach { case (id, v) => assert(bits(v) == bits(second(id)), texts(id.toInt)) }
  }

  test("1, 7 and 37 partitions agree within 1e-5 per component") {
    val reference = viaSpark(1)
    for (p <- Seq(7, 37)) {
      val other = viaSpark(p)
      assert(other.keySet == reference.keySet)
      val worst = reference.map { case (id, v) => v.zip(other(id)).map { case (a, b) => math.abs(a - b) }.max }.max
      val identical = reference.count { case (id, v) => bits(v) == bits(other(id)) }
      info(f"$p partitions vs 1: worst |Δ| $worst%.2e; $identical of ${reference.size} vectors bitwise identical")
      assert(worst <= 1e-5)
    }
  }

  /** What a random draw looks like in source: generators, their factories, and Spark's random functions. */
  private val generators: Map[String, scala.util.matching.Regex] = Seq(
    "java.util.Random" -> """\bjava\.util\.Random\b""", "new Random" -> """\bnew Random\(""",
    "Math.random" -> """\bMath\.random\(""", "ThreadLocalRandom" -> """\bThreadLocalRandom\b""",
    "SecureRandom" -> """\bSecureRandom\b""", "SplittableRandom" -> """\bSplittableRandom\b""",
    "RandomGenerator" -> """\bRandomGenerator\b""", "UUID.randomUUID" -> """\bUUID\.randomUUID\(""",
    "randomUID" -> """\brandomUID\(""", "random projections" -> """\bBucketedRandomProjectionLSH\(""",
    "rand/randn" -> """\brandn?\(""", "shuffle" -> """\bshuffle\(""", "sample" -> """\.sample\(""")
    .map { case (name, re) => name -> re.r }.toMap

  /**
   * Every random draw in src/main, each with the reason it cannot change a vector. A new one fails the test until it
   * is reviewed and listed here; a listed one that disappears fails it too, so that the list stays true.
   */
  private val reviewed: Map[(String, String), String] = Map(
    ("spark/PeftEmbedder.java", "randomUID") -> "the stage's Spark ML uid: a name",
    ("spark/ModelLocator.java", "UUID.randomUUID") -> "the name of the scratch directory a model is copied into",
    ("onnx/StagedDirectory.java", "ThreadLocalRandom") -> "the name of the scratch directory of an import",
    ("join/LshHasher.java", "random projections") -> "the similar command's LSH, seeded by --seed; not embedding",
    ("join/BucketLength.java", "sample") -> "the similar command's bucket-length sample, seeded by --seed")

  test("nothing in src/main draws a random number, except reviewed uses that name things or are seeded") {
    val root = Path.of(sys.props("user.dir"), "src", "main")
    val sources = Using.resource(Files.walk(root))(_.iterator.asScala
      .filter(p => Files.isRegularFile(p) && Seq(".java", ".scala").exists(p.toString.endsWith)).toVector)
    assert(sources.size > 50, s"the scan found only ${sources.size} sources under $root")
    val base = root.resolve("java").resolve("dev").resolve("peftembed")
    val found = (for {
      file <- sources
      text = Files.readString(file)
      (name, re) <- generators if re.findFirstIn(text).isDefined
    } yield (base.relativize(file).toString, name)).toSet
    info(s"reviewed: ${reviewed.map { case ((f, g), why) => s"$f ($g): $why" }.mkString("; ")}")
    assert(found -- reviewed.keySet == Set.empty, "random draws nobody reviewed")
    assert(reviewed.keySet -- found == Set.empty, "reviewed draws that are gone: remove them from the list")
  }
}

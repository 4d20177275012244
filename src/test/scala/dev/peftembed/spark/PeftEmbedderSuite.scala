package dev.peftembed.spark

import dev.peftembed.embed.{EncoderOptions, SentenceEncoder}
import dev.peftembed.onnx.DefaultModel
import dev.peftembed.testkit.LocalSparkSession
import java.sql.Timestamp
import org.apache.spark.ml.linalg.Vector
import org.apache.spark.sql.{DataFrame, Row}
import org.apache.spark.sql.functions.col
import org.apache.spark.sql.types.{ArrayType, DataTypes, StructType}
import org.scalatest.funsuite.AnyFunSuite
import scala.jdk.CollectionConverters._
import scala.util.Using

/** The stage on local[2] with the real default model (all-MiniLM-L6-v2). */
class PeftEmbedderSuite extends AnyFunSuite with LocalSparkSession {

  private lazy val modelDir = DefaultModel.resolve().toString

  private val long = Iterator.continually("the quick brown fox jumps over the lazy dog").take(80).mkString(" ")
  private val texts: Seq[String] = Seq(
    "A man is eating food.", null, "", "   ", "A man is riding a horse.", "Ein Mann isst.", long, null,
    "Two dogs play in the snow.", "x", "The new movie is awesome", "The cat sits outside", "\t\n")

  private val schema = new StructType()
    .add("id", DataTypes.LongType)
    .add("text", DataTypes.StringType)
    .add("score", DataTypes.DoubleType)
    .add("tags", ArrayType(DataTypes.StringType))
    .add("meta", new StructType().add("source", DataTypes.StringType).add("rank", DataTypes.IntegerType))
    .add("seen", DataTypes.TimestampType)
    .add("raw", DataTypes.BinaryType)

  private lazy val inputRows: Seq[Row] = texts.zipWithIndex.map { case (t, i) =>
    Row(i.toLong * 7 + 3, t, if (i % 3 == 0) null else i * 0.5, Seq(s"t$i", null), Row(s"src$i", i),
      new Timestamp(1700000000000L + i), Array[Byte](i.toByte, 42))
  }

  private def input(partitions: Int): DataFrame =
    spark.createDataFrame(inputRows.asJava, schema).coalesce(1).repartitionByRange(partitions, col("id"))

  private def embedder: PeftEmbedder = new PeftEmbedder().setModelPath(modelDir)

  private lazy val direct = Using.resource(
    SentenceEncoder.load(DefaultModel.resolve(), null, EncoderOptions.defaults().withDevice("cpu", "float32"))) {
    _.encode(texts.asJava).asScala.toSeq
  }

  test("every row comes back once, in order, with all input columns untouched; null text, null embedding") {
    val out = embedder.setNumTokensCol("n").setTruncatedCol("cut").transform(input(3)).collect().toSeq
    assert(out.map(_.getLong(0)) == inputRows.map(_.getLong(0)))
    out.zip(inputRows).foreach { case (o, in) =>
      // Row equality compares binary columns by content.
      assert(Row.fromSeq(o.toSeq.take(schema.size)) == in)
      val embedding = o.getAs[scala.collection.Seq[Float]]("embedding")
      if (in.getString(1) == null) {
        assert(embedding == null && o.isNullAt(o.fieldIndex("n")) && o.isNullAt(o.fieldIndex("cut")))
      } else {
        assert(embedding.size == 384)
        assert(o.getAs[Int]("n") >= 2, "[CLS] and [SEP] at least, even for empty and blank texts")
      }
    }
    val longRow = out(texts.indexOf(long))
    assert(longRow.getAs[Boolean]("cut") && longRow.getAs[Int]("n") == 256)
  }

  test("the stage's vectors equal SentenceEncoder.encode for the same texts, within 1e-5") {
    val out = embedder.setNumTokensCol("n").setTruncatedCol("cut").transform(input(4)).collect().toSeq
    out.zip(direct).foreach { case (row, expected) =>
      if (expected == null) {
        assert(row.isNullAt(row.fieldIndex("embedding")))
      } else {
        val got = row.getAs[scala.collection.Seq[Float]]("embedding")
        val maxDiff = got.zip(expected.vector).map { case (a, b) => math.abs(a - b) }.max
        assert(maxDiff <= 1e-5, s"row ${row.getLong(0)}: max |diff| $maxDiff")
        assert(row.getAs[Int]("n") == expected.numTokens && row.getAs[Boolean]("cut") == expected.truncated)
      }
    }
  }

  test("outputType vector gives ML dense vectors with the same values") {
    val arrays = embedder.transform(input(2)).collect().map(_.getAs[scala.collection.Seq[Float]]("embedding"))
    val vectors = embedder.setOutputType("vector").transform(input(2)).collect().map(_.getAs[Vector]("embedding"))
    arrays.zip(vectors).foreach { case (a, v) =>
      if (a == null) assert(v == null) else assert(v.toArray.toSeq == a.map(_.toDouble))
    }
  }

  test("a model is loaded once per executor: several transforms and jobs, one load") {
    // An option no other test uses, so that this key is not already in the JVM-wide cache.
    val stage = embedder.setMaxBatchTokens(4093)
    for (partitions <- Seq(4, 5, 2)) {
      val embedded = stage.transform(input(partitions)).where(col("embedding").isNotNull).count()
      assert(embedded == texts.count(_ != null))
    }
    assert(stage.modelLoads() == 1, "local[2] is one executor running two task threads")
    val again = embedder.setMaxBatchTokens(4093)
    again.transform(input(3)).count()
    assert(again.modelLoads() == 0, "another stage instance with the same settings finds the model in the cache")
  }

  test("a model directory given as a file: URI is copied once and embeds the same") {
    val uri = DefaultModel.resolve().toUri.toString
    val out = new PeftEmbedder().setModelPath(uri).transform(input(2)).collect().toSeq
    out.zip(direct).foreach { case (row, expected) =>
      if (expected == null) assert(row.isNullAt(row.fieldIndex("embedding")))
      else {
        val got = row.getAs[scala.collection.Seq[Float]]("embedding")
        assert(got.zip(expected.vector).forall { case (a, b) => math.abs(a - b) <= 1e-5 })
      }
    }
  }

  test("each task computes on the cores Spark gave it (spark.task.cpus), not on every core of the executor") {
    assert(Runtime.getRuntime.availableProcessors() >= 2, "on one core the check below cannot tell the settings apart")
    val out = embedder.transform(input(2))
    // The same task, the same thread: the stage's partition function, then this one, pipelined.
    val threads = out.mapPartitions((rows: Iterator[Row]) => {
      rows.foreach(_ => ())
      Iterator.single(ai.djl.pytorch.jni.JniUtils.getNumThreads)
    })(org.apache.spark.sql.Encoders.scalaInt).collect().toSeq
    assert(threads == Seq(1, 1))
  }
}

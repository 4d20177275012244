package dev.peftembed.spark

import dev.peftembed.embed.Embedding
import java.util.{List => JList}
import java.util.function.{Function => JFunction}
import org.apache.spark.sql.Row
import org.apache.spark.sql.types.{DataTypes, StructType}
import org.scalatest.funsuite.AnyFunSuite
import scala.collection.mutable.ArrayBuffer
import scala.jdk.CollectionConverters._

/** The streaming logic with a fake encoder: no model, no Spark. */
class WindowedEmbeddingIteratorSuite extends AnyFunSuite {

  private val schema = new StructType().add("id", DataTypes.LongType).add("text", DataTypes.StringType)
  private val layout = OutputLayout.of(schema, "text", "embedding", "array", "n", "", "")

  /** Embeds a text as [its length]; records the size of every call. */
  private final class FakeEncoder extends JFunction[JList[String], JList[Embedding]] {
    val calls = ArrayBuffer[Int]()
    override def apply(texts: JList[String]): JList[Embedding] = {
      calls += texts.size
      texts.asScala.map { t =>
        if (t == null) null else new Embedding(Array(t.length.toFloat), t.length + 2, false)
      }.asJava
    }
  }

  /** Counts the rows pulled from the input, to show how far ahead the iterator reads. */
  private final class CountingRows(n: Int, text: Long => String) extends java.util.Iterator[Row] {
    var pulled = 0L
    override def hasNext: Boolean = pulled < n
    override def next(): Row = { val id = pulled; pulled += 1; Row(id, text(id)) }
  }

  test("rows come out in input order, extended, with nulls for null texts and blanks embedded") {
    val texts = Seq("a", null, "", "   ", "longer text", null, "z")
    val input = texts.zipWithIndex.map { case (t, i) => Row(i.toLong, t) }
    val fake = new FakeEncoder
    val out = new WindowedEmbeddingIterator(input.iterator.asJava, 3, fake, layout).asScala.toList
    assert(out.map(_.getLong(0)) == texts.indices.map(_.toLong))
    assert(out.map(_.getString(1)) == texts)
    out.zip(texts).foreach { case (row, text) =>
      if (text == null) {
        assert(row.isNullAt(2) && row.isNullAt(3))
      } else {
        assert(row.getAs[Array[Float]](2).toSeq == Seq(text.length.toFloat))
        assert(row.getInt(3) == text.length + 2)
      }
    }
    assert(fake.calls == Seq(3, 3, 1))
  }

  test("memory is one window: the input is read at most a window ahead of the output") {
    val input = new CountingRows(100000, id => s"text $id")
    val fake = new FakeEncoder
    val it = new WindowedEmbeddingIterator(input, 1000, fake, layout)
    var consumed = 0L
    while (it.hasNext) {
      it.next()
      consumed += 1
      assert(input.pulled - consumed < 1000)
    }
    assert(consumed == 100000)
    assert(fake.calls.forall(_ == 1000) && fake.calls.size == 100)
  }

  test("an empty partition never calls the encoder") {
    val fake = new FakeEncoder
    val it = new WindowedEmbeddingIterator(java.util.Collections.emptyIterator[Row](), 10, fake, layout)
    assert(!it.hasNext)
    assert(fake.calls.isEmpty)
    intercept[NoSuchElementException](it.next())
  }

  test("an encoder that loses a row fails the task instead of dropping it") {
    val lossy: JFunction[JList[String], JList[Embedding]] = texts => texts.subList(1, texts.size).asScala
      .map(_ => new Embedding(Array(0f), 1, false)).asJava
    val it = new WindowedEmbeddingIterator(Seq(Row(1L, "a"), Row(2L, "b")).iterator.asJava, 10, lossy, layout)
    val e = intercept[IllegalStateException](it.hasNext)
    assert(e.getMessage.contains("1 embeddings for 2 texts"))
  }

  test("a failed row keeps its place with null vector and counts, and its reason in the error column") {
    val withErrors = OutputLayout.of(schema, "text", "embedding", "array", "n", "cut", "why")
    val encode: JFunction[JList[String], JList[Embedding]] = texts => texts.asScala.map {
      case null => null
      case "bad" => Embedding.failed("encoder failed: boom")
      case t => new Embedding(Array(1f), 3, false)
    }.asJava
    val input = Seq(Row(1L, "ok"), Row(2L, "bad"), Row(3L, null))
    val out = new WindowedEmbeddingIterator(input.iterator.asJava, 8, encode, withErrors).asScala.toList
    assert(out.map(_.getLong(0)) == List(1L, 2L, 3L))
    // Columns: id, text, embedding, n, cut, why.
    assert(out(0).isNullAt(5) && out(0).getInt(3) == 3)
    assert(out(1).isNullAt(2) && out(1).isNullAt(3) && out(1).isNullAt(4))
    assert(out(1).getString(5) == "encoder failed: boom")
    assert(out(2).isNullAt(2) && out(2).isNullAt(5))
  }
}

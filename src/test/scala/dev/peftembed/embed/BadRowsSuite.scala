package dev.peftembed.embed

import ai.djl.Device
import ai.djl.ndarray.{NDArray, NDManager}
import ai.djl.ndarray.types.DataType
import dev.peftembed.encoder.TokenEncoder
import dev.peftembed.encoder.bert.{BertModel, BertTokenEncoder}
import dev.peftembed.model.Checkpoint
import dev.peftembed.testkit.TestModels
import dev.peftembed.testkit.VectorMath.maxAbsDiff
import org.scalatest.funsuite.AnyFunSuite
import scala.jdk.CollectionConverters._
import scala.util.Using

/** Texts that break naive pipelines get an embedding or a reasoned failure, and never fail their neighbours. */
class BadRowsSuite extends AnyFunSuite {
  private val model = TestModels.miniLm
  private val options = EncoderOptions.defaults().withDevice("cpu", "float32")

  private def encode(texts: Seq[String]): Seq[Embedding] =
    Using.resource(SentenceEncoder.load(model.dir, null, options))(_.encode(texts.asJava).asScala.toSeq)

  test("unpaired surrogates, NUL, control characters, right-to-left and combining marks are embedded") {
    val texts = Seq("lone \uD800 high surrogate", "lone \uDC00 low surrogate", "nul \u0000 inside",
      "bell \u0007 escape \u001b[0m", "עברית וערבית: مرحبا \u202Eoverride", "e\u0301\u0302\u0303 combining",
      "\uFEFFbyte order mark")
    val out = encode(texts)
    out.zip(texts).foreach { case (e, t) =>
      assert(e.succeeded && e.vector.length == 384 && e.vector.forall(v => !v.isNaN), t)
    }
  }

  test("a 5 MB text is tokenized from a prefix and equals the same text cut by hand") {
    val unit = "lorem ipsum dolor sit amet, consectetur adipiscing elit "
    val huge = unit * (5000000 / unit.length)
    val noSpaces = "x" * 5000000
    val start = System.nanoTime()
    val Seq(a, b, c, d) = encode(Seq(huge, unit * 200, noSpaces, "x" * 100000))
    info(f"4 texts, two of 5 MB, in ${(System.nanoTime() - start) / 1e9}%.2f s")
    assert(a.truncated && a.numTokens == 256)
    assert(maxAbsDiff(a.vector, b.vector) <= 1e-6)
    assert(maxAbsDiff(c.vector, d.vector) <= 1e-6)
  }

  test("a row the network fails on fails alone; its batch neighbours are embedded") {
    val plan = EncoderPlan.resolve(model.dir, null, options)
    val poison = 5
    val texts = (0 until 10).map(i => if (i == poison) "this row carries the poison word" else s"an ordinary sentence $i")
    val out = Using.resource(baseNetwork()) { base =>
      val poisonId = Using.resource(SentenceEncoderLoader.create(plan, new FailOn(base, -1)))(
        _.tokenize(java.util.List.of("poison")).get(0).ids()(1))
      Using.resource(SentenceEncoderLoader.create(plan, new FailOn(base, poisonId)))(_.encode(texts.asJava).asScala.toSeq)
    }
    assert(!out(poison).succeeded && out(poison).error.contains("encoder failed: poisoned batch"))
    val healthy = encode(texts.patch(poison, Nil, 1))
    out.patch(poison, Nil, 1).zip(healthy).foreach { case (got, want) =>
      assert(maxAbsDiff(got.vector, want.vector) <= 1e-5)
    }
  }

  test("when every row fails, the encoder is blamed instead of writing a table of nulls") {
    val plan = EncoderPlan.resolve(model.dir, null, options)
    val e = intercept[IllegalStateException] {
      Using.resource(baseNetwork()) { base =>
        // 101 is [CLS], in every row.
        Using.resource(SentenceEncoderLoader.create(plan, new FailOn(base, 101)))(
          _.encode((0 until 20).map(i => s"text $i").asJava))
      }
    }
    assert(e.getMessage.contains("all 20 rows of the window failed"))
  }

  private def baseNetwork(): TokenEncoder =
    new BertTokenEncoder(BertModel.load(Checkpoint.open(model.dir), model.config, Device.cpu(), DataType.FLOAT32),
      null)

  /** The real network, failing any batch that contains one token id: a fault injected around real libtorch. */
  private final class FailOn(delegate: TokenEncoder, poisonId: Long) extends TokenEncoder {
    override def forward(ids: NDArray, typeIds: NDArray, attentionMask: NDArray): NDArray = {
      if (ids.toLongArray.contains(poisonId)) throw new IllegalStateException("poisoned batch")
      delegate.forward(ids, typeIds, attentionMask)
    }
    override def manager(): NDManager = delegate.manager()
    override def device(): Device = delegate.device()
    override def dtype(): DataType = delegate.dtype()
    override def close(): Unit = ()
  }
}

package dev.peftembed.embed

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer
import com.fasterxml.jackson.databind.ObjectMapper
import dev.peftembed.pooling.VirtualTokenPolicy
import dev.peftembed.testkit.{OrtReference, ReferencePooling, TestModels}
import dev.peftembed.testkit.TestModels.RealModel
import dev.peftembed.testkit.VectorMath._
import java.nio.{ByteBuffer, ByteOrder}
import java.nio.file.{Files, Path, Paths}
import org.scalatest.funsuite.AnyFunSuite
import scala.jdk.CollectionConverters._
import scala.util.Using

/**
 * Prefix tuning against PEFT's semantics, on the real models: the committed references come from a forward pass
 * written from the transformers, PEFT and sentence-transformers sources (src/test/python/), which shares nothing with
 * the encoder. That forward earns its trust here first: its base-model vectors must agree with ONNX Runtime on the
 * original export. Tolerances: cosine ≥ 0.99999 and max |Δ| ≤ 1e-5 per vector.
 */
class PrefixTuningParitySuite extends AnyFunSuite {
  private val MinCosine = 0.99999
  private val MaxAbsDiff = 1e-5
  private val Cases = Seq("m8", "m8-projected", "m20", "m20-projected")

  private lazy val root: Path = Paths.get(getClass.getResource("/fixtures/prefix-tuning").toURI)

  private final case class Inputs(texts: Seq[String], ids: Seq[Array[Long]])

  private def inputs(model: RealModel): Inputs = {
    val json = new ObjectMapper().readTree(root.resolve("inputs").resolve(model.name + ".json").toFile)
    Inputs(json.get("texts").elements().asScala.map(_.asText).toSeq,
      json.get("ids").elements().asScala.map(_.elements().asScala.map(_.asLong).toArray).toSeq)
  }

  private def rows(file: Path, width: Int): Seq[Array[Double]] = {
    val floats = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer()
    val all = new Array[Float](floats.remaining())
    floats.get(all)
    all.grouped(width).map(_.map(_.toDouble)).toSeq
  }

  private def tokenizer(model: RealModel, maxLength: Int): HuggingFaceTokenizer =
    HuggingFaceTokenizer.builder().optTokenizerPath(model.tokenizer).optAddSpecialTokens(true)
      .optPadding(false).optTruncation(true).optMaxLength(maxLength).build()

  private def agree(label: String, texts: Seq[String], actual: Int => Array[Float],
      expected: Seq[Array[Double]]): Unit = {
    assert(expected.size == texts.size, s"$label: ${expected.size} reference rows for ${texts.size} texts")
    var agreement = noAgreementYet
    texts.indices.foreach { i =>
      val v = actual(i)
      val cos = cosine(v, expected(i))
      val diff = maxAbsDiff(v, expected(i))
      agreement = agreement.add(cos, diff)
      assert(cos >= MinCosine && diff <= MaxAbsDiff, s"$label text $i (${texts(i).take(40)}): cosine $cos, " +
        s"max|Δ| $diff")
    }
    info(s"$label: $agreement")
  }

  for ((model, maxSeq, cls) <- Seq(
      (() => TestModels.miniLm, 256, false),
      (() => TestModels.bgeSmall, 512, true))) {
    val name = if (cls) "bge-small-en-v1.5" else "all-MiniLM-L6-v2"
    lazy val m = model()

    test(s"$name: the committed token ids are still the tokenizer's") {
      val in = inputs(m)
      Using.resource(tokenizer(m, 512)) { t =>
        in.texts.zip(in.ids).zipWithIndex.foreach { case ((text, ids), i) =>
          assert(t.encode(text).getIds.toSeq == ids.toSeq, s"text $i (${text.take(40)})")
        }
      }
    }

    test(s"$name: the Python reference's base vectors match ONNX Runtime on the original export") {
      val in = inputs(m)
      val c = m.config
      val expected = rows(root.resolve(m.name).resolve("base.f32"), c.hiddenSize)
      Using.resources(tokenizer(m, maxSeq), new OrtReference(m.onnx, c.vocabSize, c.hiddenSize, None)) { (t, ort) =>
        val ort_ = in.texts.map { text =>
          val ids = t.encode(text).getIds
          val h = ort.hiddenStates(ids)
          val pooled = if (cls) ReferencePooling.cls(h, 0) else ReferencePooling.mean(h, ReferencePooling.mask(0,
            ids.length, includeVirtual = true))
          ReferencePooling.normalize(pooled).map(_.toFloat)
        }
        agree(s"${m.name} Python base vs ORT", in.texts, ort_, expected)
      }
    }

    for (adapter <- Cases) {
      test(s"$name: prefix tuning ${adapter.replace("m", "M = ").replace("-projected", ", projected")} matches " +
        "PEFT's semantics, whatever the virtual-token policy") {
        val in = inputs(m)
        val dir = root.resolve(m.name).resolve(adapter)
        val expected = rows(dir.resolve("expected.f32"), m.config.hiddenSize)
        val base = rows(root.resolve(m.name).resolve("base.f32"), m.config.hiddenSize)
        val moved = expected.zip(base).map { case (e, b) => cosine(b.map(_.toFloat), e) }.min
        assert(moved < 0.99, s"the prefix barely moves the vectors (worst cosine to the base model $moved)")
        for (policy <- Seq(VirtualTokenPolicy.INCLUDE, VirtualTokenPolicy.EXCLUDE)) {
          val options = EncoderOptions.defaults().withVirtualTokens(policy).withDevice("cpu", "float32")
          val actual = Using.resource(SentenceEncoder.load(m.dir, dir, options))(_.encode(in.texts.asJava))
          agree(s"${m.name} $adapter $policy", in.texts, i => {
            assert(actual.get(i).succeeded, s"text $i failed: ${actual.get(i).error}")
            actual.get(i).vector
          }, expected)
        }
      }
    }
  }
}

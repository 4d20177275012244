package dev.peftembed.embed

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer
import dev.peftembed.pooling.VirtualTokenPolicy
import dev.peftembed.testkit.{OrtReference, ReferencePooling, Texts, TestModels}
import dev.peftembed.testkit.TestModels.RealModel
import dev.peftembed.testkit.VectorMath._
import java.nio.file.Path
import org.scalatest.funsuite.AnyFunSuite
import scala.jdk.CollectionConverters._
import scala.util.Using

/**
 * Our encoder against ONNX Runtime on the original export, for the base models and for prompt-tuning adapters
 * under both virtual-token policies. Tolerances: cosine ≥ 0.9999 and max |Δ| ≤ 1e-4 per vector.
 */
class ReferenceParitySuite extends AnyFunSuite {
  private val MinCosine = 0.9999
  private val MaxAbsDiff = 1e-4

  private def texts(model: RealModel): Seq[String] =
    Texts.handPicked ++ Texts.generated(model.tokenizer, 24, seed = 7)

  /** Reference vectors: tokenize as sentence-transformers does, run ORT unpadded, pool in double, normalize. */
  private def reference(model: RealModel, texts: Seq[String], maxReal: Int, prompt: Option[Array[Float]],
      pool: (Array[Array[Float]], Int, Int) => Array[Double]): Seq[Array[Double]] = {
    val c = model.config
    val table = prompt.map(rows => (TestModels.wordTable(model), rows))
    Using.resources(
      HuggingFaceTokenizer.builder().optTokenizerPath(model.tokenizer).optAddSpecialTokens(true)
        .optPadding(false).optTruncation(true).optMaxLength(maxReal).build(),
      new OrtReference(model.onnx, c.vocabSize, c.hiddenSize, table)) { (tokenizer, ort) =>
      texts.map { t =>
        val ids = tokenizer.encode(t).getIds
        val m = prompt.map(_.length / c.hiddenSize).getOrElse(0)
        ReferencePooling.normalize(pool(ort.hiddenStates(ids), m, ids.length))
      }
    }
  }

  private def check(label: String, model: RealModel, adapter: Option[Path], policy: VirtualTokenPolicy,
      expected: Seq[Array[Double]], texts: Seq[String]): Unit = {
    val options = EncoderOptions.defaults().withVirtualTokens(policy).withDevice("cpu", "float32")
    val actual = Using.resource(SentenceEncoder.load(model.dir, adapter.orNull, options))(_.encode(texts.asJava))
    var agreement = noAgreementYet
    texts.indices.foreach { i =>
      val v = actual.get(i).vector
      val cos = cosine(v, expected(i))
      val diff = maxAbsDiff(v, expected(i))
      agreement = agreement.add(cos, diff)
      assert(cos >= MinCosine && diff <= MaxAbsDiff,
        s"$label text $i (${texts(i).take(40)}): cosine $cos, max|Δ| $diff")
    }
    info(s"$label: $agreement")
  }

  private def meanPool(includeVirtual: Boolean)(h: Array[Array[Float]], m: Int, n: Int): Array[Double] =
    ReferencePooling.mean(h, ReferencePooling.mask(m, n, includeVirtual))

  private def clsPool(includeVirtual: Boolean)(h: Array[Array[Float]], m: Int, n: Int): Array[Double] =
    ReferencePooling.cls(h, if (includeVirtual) 0 else m)

  for ((model, maxSeq, pool) <- Seq(
      (() => TestModels.miniLm, 256, meanPool _),
      (() => TestModels.bgeSmall, 512, clsPool _))) {
    lazy val m = model()

    test(s"base model matches ONNX Runtime: ${if (maxSeq == 256) "all-MiniLM-L6-v2 (mean)" else "bge-small-en-v1.5 (cls)"}") {
      val ts = texts(m)
      check(s"${m.name} base", m, None, VirtualTokenPolicy.INCLUDE, reference(m, ts, maxSeq, None, pool(true)), ts)
    }

    for (virtual <- Seq(8, 20)) {
      test(s"prompt tuning M=$virtual matches ONNX Runtime with the word table extended, both policies: " +
        s"${if (maxSeq == 256) "all-MiniLM-L6-v2" else "bge-small-en-v1.5"}") {
        val (adapterDir, rows) = TestModels.promptAdapter(m, virtual, seed = virtual)
        val ts = texts(m)
        val maxReal = math.min(maxSeq, m.config.maxPositions - virtual)
        for ((policy, include) <- Seq(VirtualTokenPolicy.INCLUDE -> true, VirtualTokenPolicy.EXCLUDE -> false)) {
          val expected = reference(m, ts, maxReal, Some(rows), pool(include))
          check(s"${m.name} M=$virtual $policy", m, Some(adapterDir), policy, expected, ts)
        }
      }
    }
  }
}

package dev.peftembed.embed

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer
import dev.peftembed.pooling.VirtualTokenPolicy
import dev.peftembed.testkit.TinyEncoders
import dev.peftembed.testkit.VectorMath._
import org.scalatest.funsuite.AnyFunSuite
import scala.jdk.CollectionConverters._
import scala.util.Using

/**
 * XLM-RoBERTa and DistilBERT against reference vectors from a forward written from transformers' modeling files
 * (src/test/python/encoder_reference.py, anchored to the BERT reference), base and with a prompt-tuning adapter under
 * both virtual-token policies. The encoder batches and pads; the reference ran each text alone, so padding, the
 * RoBERTa position rule and truncation are all under test. Tolerances: cosine ≥ 0.99999, max |Δ| ≤ 1e-5.
 */
class ArchitectureParitySuite extends AnyFunSuite {
  private val MinCosine = 0.99999
  private val MaxAbsDiff = 1e-5

  private def agree(label: String, texts: Seq[String], actual: Seq[Array[Float]],
      expected: Seq[Array[Double]]): Unit = {
    assert(expected.size == texts.size && actual.size == texts.size)
    var agreement = noAgreementYet
    texts.indices.foreach { i =>
      val cos = cosine(actual(i), expected(i))
      val diff = maxAbsDiff(actual(i), expected(i))
      agreement = agreement.add(cos, diff)
      assert(cos >= MinCosine && diff <= MaxAbsDiff, s"$label text $i (${texts(i).take(40)}): cosine $cos, " +
        s"max|Δ| $diff")
    }
    info(s"$label: $agreement")
  }

  private def encode(f: TinyEncoders.Fixture, adapter: Boolean, policy: VirtualTokenPolicy): Seq[Array[Float]] = {
    val options = EncoderOptions.defaults().withVirtualTokens(policy).withDevice("cpu", "float32")
    Using.resource(SentenceEncoder.load(f.st, if (adapter) f.adapter else null, options)) { e =>
      e.encode(f.texts.asJava).asScala.map(_.vector).toSeq
    }
  }

  for (f <- TinyEncoders.all) {
    test(s"${f.name}: the real tokenizer gives the ids the reference was computed from") {
      Using.resource(HuggingFaceTokenizer.builder().optTokenizerPath(f.st.resolve("tokenizer.json"))
        .optAddSpecialTokens(true).optPadding(false).optTruncation(false).build()) { t =>
        f.texts.zip(f.ids).zipWithIndex.foreach { case ((text, ids), i) =>
          assert(t.encode(text).getIds.toSeq == ids, s"text $i ($text)")
        }
      }
    }

    test(s"${f.name}: the base model matches the reference") {
      agree(s"${f.name} base", f.texts, encode(f, adapter = false, VirtualTokenPolicy.INCLUDE), f.expected("base"))
    }

    test(s"${f.name}: prompt tuning matches the reference under both policies") {
      for ((policy, which) <- Seq(VirtualTokenPolicy.INCLUDE -> "include", VirtualTokenPolicy.EXCLUDE -> "exclude")) {
        agree(s"${f.name} prompt $which", f.texts, encode(f, adapter = true, policy), f.expected(which))
      }
    }
  }
}

package dev.peftembed.embed

import dev.peftembed.peft.LoraAdapter
import dev.peftembed.testkit.{LoraFixtures, OrtReference, ReferencePooling}
import dev.peftembed.testkit.TestModels.RealModel
import dev.peftembed.testkit.VectorMath._
import org.scalatest.funsuite.AnyFunSuite
import scala.jdk.CollectionConverters._
import scala.util.Using

/**
 * LoRA adapters through our encoder against `src/test/python/make_lora_references.py`: a float64 BERT forward
 * written from transformers' source, with LoRA applied unmerged by PEFT's rules and PEFT's own matching code choosing
 * the modules. That reference is trusted only because its base model agrees with ONNX Runtime on the original export.
 * Tolerances: cosine ≥ 0.99999 and max |Δ| ≤ 1e-5 per vector, for the anchor and for every case.
 */
class LoraParitySuite extends AnyFunSuite {
  private val MinCosine = 0.99999
  private val MaxAbsDiff = 1e-5

  private val options = EncoderOptions.defaults().withDevice("cpu", "float32")

  private def agree(label: String, actual: Seq[Array[Float]], expected: Seq[Array[Double]]): Agreement = {
    assert(actual.size == expected.size)
    var agreement = noAgreementYet
    actual.indices.foreach { i =>
      val cos = cosine(actual(i), expected(i))
      val diff = maxAbsDiff(actual(i), expected(i))
      agreement = agreement.add(cos, diff)
      assert(cos >= MinCosine && diff <= MaxAbsDiff, s"$label text $i: cosine $cos, max|Δ| $diff")
    }
    info(s"$label: $agreement")
    agreement
  }

  private def encode(model: RealModel, adapter: Option[java.nio.file.Path], texts: Seq[String]): Seq[Array[Float]] =
    Using.resource(SentenceEncoder.load(model.dir, adapter.orNull, options)) { encoder =>
      encoder.encode(texts.asJava).asScala.map(_.vector).toSeq
    }

  for (model <- LoraFixtures.models) {
    lazy val m = model()
    lazy val inputs = LoraFixtures.inputs(m)
    lazy val reference = LoraFixtures.reference(m)
    val name = if (model eq LoraFixtures.models.head) "all-MiniLM-L6-v2" else "bge-small-en-v1.5"

    test(s"$name: the fixture's token ids are what the real tokenizer gives today") {
      val now = LoraFixtures.tokenize(m, inputs.texts, inputs.maxSeqLength)
      assert(inputs.texts.size == 22)
      inputs.texts.indices.foreach(i => assert(now(i).sameElements(inputs.ids(i)), s"text $i: ${inputs.texts(i)}"))
    }

    test(s"$name: the Python reference's base model agrees with ONNX Runtime on the original export (the anchor)") {
      val cls = m.name.startsWith("bge")
      val ort = Using.resource(new OrtReference(m.onnx, m.config.vocabSize, m.config.hiddenSize, None)) { ort =>
        inputs.ids.map { ids =>
          val h = ort.hiddenStates(ids)
          ReferencePooling.normalize(
            if (cls) ReferencePooling.cls(h, 0) else ReferencePooling.mean(h, ReferencePooling.mask(0, ids.length, true)))
        }
      }
      agree(s"$name Python base vs ONNX Runtime", ort.map(_.map(_.toFloat)), reference.base)
    }

    test(s"$name: our base model equals the Python reference") {
      agree(s"$name base", encode(m, None, inputs.texts), reference.base)
    }

    for (c <- LoraFixtures.cases) {
      test(s"$name: LoRA $c equals the Python reference (PEFT's rules, unmerged, float64)") {
        agree(s"$name $c", encode(m, Some(LoraFixtures.adapter(m, c)), inputs.texts), reference.vectors(c))
      }
    }

    test(s"$name: every case adapts the modules PEFT's own matching code chose, with PEFT's scales") {
      for (c <- LoraFixtures.cases) {
        val ours = LoraAdapter.load(LoraFixtures.adapter(m, c), m.config).modules().asScala
          .map { case (module, lora) => module -> lora.scale() }.toMap
        // The pooler's output is not what sentence-transformers pools: its LoRA is checked, then left out.
        val peft = reference.scales(c).filter(_._1 != "pooler.dense")
        assert(ours.keySet == peft.keySet, s"$c: modules")
        peft.foreach { case (module, scale) => assert(math.abs(ours(module) - scale) <= 1e-12, s"$c $module") }
      }
    }
  }
}

package dev.peftembed.encoder.mpnet

import ai.djl.Device
import ai.djl.ndarray.types.{DataType, Shape}
import dev.peftembed.encoder.WeightOverlay
import dev.peftembed.model.{BertConfig, Checkpoint, SafetensorsFile}
import dev.peftembed.testkit.{ReferencePooling, TinyMPNet}
import dev.peftembed.testkit.VectorMath._
import org.scalatest.funsuite.AnyFunSuite
import scala.util.Using

/**
 * The MPNet encoder on its own, on padded batches, against the references of make_tiny_mpnet.py (written from
 * transformers' modeling_mpnet.py, one unpadded text at a time): padding, virtual tokens and the relative bias must
 * change nothing a real token sees. Cosine ≥ 0.99999 and max |Δ| ≤ 1e-5 per vector.
 */
class MPNetModelSuite extends AnyFunSuite {
  private lazy val config = BertConfig.read(TinyMPNet.st.resolve("config.json"))

  test("the bucket of every relative distance is transformers' relative_position_bucket") {
    val pairs = TinyMPNet.buckets
    // Bucket 16 would be a key after the query at distance 0: it never occurs.
    assert(pairs.size > 1000 && pairs.map(_._2).toSet == (0 until 32).toSet - 16, "the reference covers every bucket")
    pairs.foreach { case (distance, bucket) =>
      assert(RelativeAttentionBias.bucket(distance) == bucket, s"distance $distance")
    }
  }

  private def run(prompt: Boolean): Seq[Array[Array[Float]]] = {
    val ids = TinyMPNet.ids
    val padded = ids.map(_.length).max
    val table = if (prompt) {
      SafetensorsFile.open(TinyMPNet.adapter.resolve("adapter_model.safetensors")).read("prompt_embeddings")
    } else null
    val model = MPNetModel.load(Checkpoint.open(TinyMPNet.st), config, Device.cpu(), DataType.FLOAT32,
      WeightOverlay.NONE)
    Using.resource(new MPNetTokenEncoder(model, table)) { encoder =>
      Using.resource(encoder.manager().newSubManager()) { m =>
        // Padded with id 0 as our batches are: MPNet's <s>, not its <pad>, so only the mask tells padding apart.
        val flatIds = ids.flatMap(row => row ++ Array.fill(padded - row.length)(0L)).toArray
        val mask = ids.flatMap(row => Array.fill(row.length)(1L) ++ Array.fill(padded - row.length)(0L)).toArray
        val shape = new Shape(ids.size, padded)
        val out = encoder.forward(m.create(flatIds, shape), m.zeros(shape, DataType.INT64), m.create(mask, shape))
        val width = out.getShape.get(1).toInt
        val values = out.toFloatArray
        ids.indices.map(r => Array.tabulate(width)(i => values.slice((r * width + i) * 32, (r * width + i + 1) * 32)))
      }
    }
  }

  private def agree(label: String, expected: Seq[Array[Double]], pooled: Int => Array[Double]): Unit = {
    var agreement = noAgreementYet
    expected.indices.foreach { i =>
      val v = pooled(i).map(_.toFloat)
      val cos = cosine(v, expected(i))
      val diff = maxAbsDiff(v, expected(i))
      agreement = agreement.add(cos, diff)
      assert(cos >= 0.99999 && diff <= 1e-5, s"$label text $i: cosine $cos, max|Δ| $diff")
    }
    info(s"$label: $agreement")
  }

  test("a padded batch gives each text the reference's vector, positions numbered from padding_idx + 1") {
    val hidden = run(prompt = false)
    val ids = TinyMPNet.ids
    agree("base", TinyMPNet.vectors("base"), i =>
      ReferencePooling.normalize(ReferencePooling.mean(hidden(i), ReferencePooling.mask(0, ids(i).length, true) ++
        Array.fill(hidden(i).length - ids(i).length)(0.0))))
  }

  test("prompt tuning: virtual tokens take positions 2..M+1 and join the relative bias, under both policies") {
    val hidden = run(prompt = true)
    val ids = TinyMPNet.ids
    val m = TinyMPNet.virtualTokens
    for ((kind, include) <- Seq(("prompt_include", true), ("prompt_exclude", false))) {
      agree(kind, TinyMPNet.vectors(kind), i =>
        ReferencePooling.normalize(ReferencePooling.mean(hidden(i), ReferencePooling.mask(m, ids(i).length, include)
          ++ Array.fill(hidden(i).length - m - ids(i).length)(0.0))))
    }
  }
}

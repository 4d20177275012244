package dev.peftembed.testkit

import dev.peftembed.embed.{EncoderOptions, SentenceEncoder}
import dev.peftembed.testkit.VectorMath._
import java.nio.{ByteBuffer, ByteOrder}
import java.nio.file.{Files, Path, Paths}
import com.fasterxml.jackson.databind.ObjectMapper
import scala.jdk.CollectionConverters._
import scala.util.{Random, Using}

/**
 * A shuffled mix of rows over all-MiniLM-L6-v2 and four adapters of every kind: a prompt-tuning adapter, a
 * prefix-tuning one (M = 8), and two LoRA adapters (every linear layer; `bias="all"` with a LoRA bias), plus rows for
 * the base model. Each row carries what it must equal: Python's reference where the fixtures have one (the base
 * model, the LoRA and prefix cases), and in every case the vector of a run of its adapter alone.
 */
object AdapterMix {
  /** One input row. `adapter` is None for the base model. */
  final case class MixRow(id: Int, text: String, adapter: Option[String], reference: Option[Array[Double]])

  lazy val model: TestModels.RealModel = TestModels.miniLm

  /** The adapters by the name the rows use. */
  lazy val adapters: Map[String, Path] = Map(
    "prompt" -> TestModels.promptAdapter(model, 8, seed = 21)._1,
    "prefix" -> prefixRoot.resolve(model.name).resolve("m8"),
    "lora-all" -> LoraFixtures.adapter(model, "all-linear-hf"),
    "lora-bias" -> LoraFixtures.adapter(model, "bias-all-peft"))

  private lazy val prefixRoot: Path = Paths.get(getClass.getResource("/fixtures/prefix-tuning").toURI)

  /** `NAME=DIR` for each adapter, as `--adapter` and the stage's `adapters` take them. */
  def specs: Seq[String] = adapters.toSeq.sortBy(_._1).map { case (n, d) => s"$n=$d" }

  lazy val rows: Seq[MixRow] = {
    val lora = LoraFixtures.inputs(model).texts
    val reference = LoraFixtures.reference(model)
    val prefixTexts = new ObjectMapper().readTree(prefixRoot.resolve("inputs").resolve(model.name + ".json").toFile)
      .get("texts").elements().asScala.map(_.asText).toSeq
    val prefixExpected = floats(adapters("prefix").resolve("expected.f32"), model.config.hiddenSize)
    val groups: Seq[(Option[String], Seq[(String, Option[Array[Double]])])] = Seq(
      None -> lora.zip(reference.base.map(Some(_))),
      Some("lora-all") -> lora.zip(reference.vectors("all-linear-hf").map(Some(_))),
      Some("lora-bias") -> lora.zip(reference.vectors("bias-all-peft").map(Some(_))),
      Some("prefix") -> prefixTexts.zip(prefixExpected.map(Some(_))),
      Some("prompt") -> lora.map(t => (t, None)))
    val all = for ((adapter, texts) <- groups; (text, ref) <- texts) yield (text, adapter, ref)
    new Random(7).shuffle(all).zipWithIndex.map { case ((t, a, r), i) => MixRow(i, t, a, r) }
  }

  /** Each row's vector from a single-adapter encoder of its adapter (the base model for none), by row id. */
  lazy val singleAdapterVectors: Map[Int, Array[Float]] = {
    val options = EncoderOptions.defaults().withDevice("cpu", "float32")
    rows.groupBy(_.adapter).flatMap { case (adapter, group) =>
      val vectors = Using.resource(SentenceEncoder.load(model.dir, adapter.map(adapters).orNull, options))(
        _.encode(group.map(_.text).asJava).asScala.map(_.vector))
      group.map(_.id).zip(vectors)
    }
  }

  /**
   * Checks one vector per row: ≤ 1e-5 from the single-adapter run, and cosine ≥ 0.99999, max |Δ| ≤ 1e-5 from
   * Python's reference where there is one.
   *
   * @return the worst agreement with the references and with the single-adapter runs
   */
  def check(actual: Map[Int, Array[Float]]): (Agreement, Double) = {
    var agreement = noAgreementYet
    var worstSingle = 0.0
    for (row <- rows) {
      val v = actual.getOrElse(row.id, throw new AssertionError(s"row ${row.id} has no vector"))
      val single = maxAbsDiff(v, singleAdapterVectors(row.id))
      worstSingle = math.max(worstSingle, single)
      assert(single <= 1e-5, s"row ${row.id} (${row.adapter}): max|Δ| $single from its single-adapter vector")
      row.reference.foreach { r =>
        val (cos, diff) = (cosine(v, r), maxAbsDiff(v, r))
        agreement = agreement.add(cos, diff)
        assert(cos >= 0.99999 && diff <= 1e-5, s"row ${row.id} (${row.adapter}): cosine $cos, max|Δ| $diff")
      }
    }
    (agreement, worstSingle)
  }

  private def floats(file: Path, width: Int): Seq[Array[Double]] = {
    val buffer = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer()
    val all = new Array[Float](buffer.remaining())
    buffer.get(all)
    all.grouped(width).map(_.map(_.toDouble)).toSeq
  }
}

package dev.peftembed.embed

import ai.djl.Device
import ai.djl.engine.EngineException
import ai.djl.ndarray.types.Shape
import dev.peftembed.encoder.TorchScriptTokenEncoder
import dev.peftembed.model.TorchScriptConfig
import dev.peftembed.pooling.VirtualTokenPolicy
import dev.peftembed.testkit.{ScratchSpace, TinyPromptBert}
import dev.peftembed.testkit.TinyPromptBert.{VirtualTokens, texts}
import dev.peftembed.testkit.VectorMath.maxAbsDiff
import dev.peftembed.text.TextTokenizer
import java.nio.file.Path
import org.scalatest.funsuite.AnyFunSuite
import scala.jdk.CollectionConverters._
import scala.util.Using

/**
 * The regression test of the defect this project exists for, on a TorchScript graph of a prompt-tuned encoder
 * whose output is M positions longer than the attention mask: pooling with the tokenizer's mask fails exactly as
 * sentence-transformers did, and our path pools the same batch and equals our native encoder on the same weights.
 */
class TorchScriptParitySuite extends AnyFunSuite with ScratchSpace {
  private val Tolerance = 1e-5
  private val cpu = EncoderOptions.defaults().withDevice("cpu", "float32")

  private def encode(model: Path, adapter: Path, options: EncoderOptions): Seq[Embedding] =
    Using.resource(SentenceEncoder.load(model, adapter, options))(_.encode(texts.asJava).asScala.toSeq)

  private def assertSame(label: String, actual: Seq[Embedding], expected: Seq[Embedding]): Double = {
    val worst = actual.zip(expected).zipWithIndex.map { case ((a, e), i) =>
      assert(a.numTokens == e.numTokens && a.truncated == e.truncated, s"$label text $i: tokens differ")
      val diff = maxAbsDiff(a.vector, e.vector)
      assert(diff <= Tolerance, s"$label text $i (${texts(i).take(30)}): max|Δ| $diff")
      diff
    }.max
    info(f"$label: ${actual.size} texts, worst max|Δ| $worst%.1e")
    worst
  }

  test("pooling a prompt-tuned graph's output with the tokenizer's mask fails with the familiar shape error") {
    val graph = TorchScriptConfig.read(TinyPromptBert.promptGraph)
    Using.resources(TorchScriptTokenEncoder.load(graph, Device.cpu()),
      TextTokenizer.load(TinyPromptBert.promptGraph.resolve("tokenizer.json"), 124, false)) { (encoder, tokenizer) =>
      val batch = tokenizer.encode(Seq("a man is eating food.", "the dog").asJava).asScala
      val n = batch.map(_.length).max
      Using.resource(encoder.manager().newSubManager()) { scope =>
        val shape = new Shape(batch.size, n)
        def padded(f: dev.peftembed.text.TokenizedText => Array[Long], fill: Long => Long) =
          scope.create(batch.flatMap(t => f(t).map(fill) ++ Array.fill(n - t.length)(0L)).toArray, shape)
        val ids = padded(_.ids, identity)
        val mask = padded(_.ids, _ => 1L)
        val tokens = encoder.forward(ids, padded(_.typeIds, identity), mask)
        assert(tokens.getShape == new Shape(batch.size, n + VirtualTokens, TinyPromptBert.Hidden))
        // sentence-transformers' mean pooling: attention_mask.unsqueeze(-1).expand(token_embeddings.size())
        val e = intercept[EngineException](mask.expandDims(-1).broadcast(tokens.getShape))
        val expected = s"The expanded size of the tensor (${n + VirtualTokens}) must match the existing size ($n)"
        assert(e.getMessage.contains(expected), e.getMessage)
      }
    }
    val ours = encode(TinyPromptBert.promptGraph, null, cpu).take(2)
    assert(ours.forall(e => e.vector.length == TinyPromptBert.Hidden && e.vector.forall(v => !v.isNaN)))
  }

  for ((mode, label) <- Seq("mean_tokens" -> "mean", "cls_token" -> "CLS");
       policy <- VirtualTokenPolicy.values()) {
    test(s"the prompt-tuned graph equals the native encoder with the adapter: $label pooling, ${policy.name}") {
      val pooling = Map("1_Pooling/config.json" -> TinyPromptBert.pooling(mode))
      val options = cpu.withVirtualTokens(policy)
      val expected = encode(TinyPromptBert.variant(TinyPromptBert.st, write = pooling), TinyPromptBert.adapter,
        options)
      val actual = encode(TinyPromptBert.variant(TinyPromptBert.promptGraph, write = pooling), null, options)
      assertSame(s"$label, ${policy.name}", actual, expected)
      assert(actual.exists(_.truncated) && actual.map(_.numTokens).max == 128 - VirtualTokens,
        "the longest text is cut so that M virtual tokens fit the 128 positions")
    }
  }

  test("the two policies differ on a prompt-tuned model, so the parity above is not vacuous") {
    val include = encode(TinyPromptBert.promptGraph, null, cpu)
    val exclude = encode(TinyPromptBert.promptGraph, null, cpu.withVirtualTokens(VirtualTokenPolicy.EXCLUDE))
    assert(include.zip(exclude).forall { case (a, b) => maxAbsDiff(a.vector, b.vector) > 1e-3 })
  }

  test("a base graph with token types and a tuple output, and one with a dict output, equal the native encoder") {
    val expected = encode(TinyPromptBert.st, null, cpu)
    assertSame("tuple (ids, mask, types)", encode(TinyPromptBert.plainGraph, null, cpu), expected)
    assertSame("dict (ids, mask)", encode(TinyPromptBert.dictGraph, null, cpu), expected)
  }

  test("a Hugging Face BertModel trace with three inputs and no serving.properties equals the native encoder") {
    val graph = TinyPromptBert.hfBertGraph
    assert(!java.nio.file.Files.exists(graph.resolve("serving.properties")))
    val config = TorchScriptConfig.read(graph)
    assert(config.inputNames == "(input_ids, attention_mask, token_type_ids)" && !config.inputsFromServingProperties)
    assertSame("HF BertModel trace, inputs from its code", encode(graph, null, cpu),
      encode(TinyPromptBert.st, null, cpu))
  }
}

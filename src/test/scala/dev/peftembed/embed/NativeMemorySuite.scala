package dev.peftembed.embed

import ai.djl.Device
import ai.djl.ndarray.{BaseNDManager, NDManager}
import ai.djl.ndarray.types.DataType
import dev.peftembed.encoder.bert.{BertModel, BertTokenEncoder}
import dev.peftembed.model.Checkpoint
import dev.peftembed.testkit.TestModels
import org.scalatest.funsuite.AnyFunSuite
import scala.jdk.CollectionConverters._
import scala.util.Using

/**
 * Nothing a batch allocates may outlive it: every array must belong to the batch's manager, which is closed when the
 * batch is done, and none to the model's, which lives as long as the executor.
 */
class NativeMemorySuite extends AnyFunSuite {
  private val model = TestModels.miniLm

  /** Arrays and sub-managers attached to a manager, read from DJL's bookkeeping. */
  private def attached(m: NDManager): Int = {
    val field = classOf[BaseNDManager].getDeclaredField("resources")
    field.setAccessible(true)
    field.get(m).asInstanceOf[java.util.Map[_, _]].size
  }

  for ((label, adapter) <- Seq("base model" -> None, "prompt-tuning adapter" -> Some(8))) {
    test(s"encoding leaves nothing attached to the model's manager: $label") {
      val options = EncoderOptions.defaults().withDevice("cpu", "float32").withBatching(4, 16384)
      val plan = EncoderPlan.resolve(model.dir, adapter.map(m => TestModels.promptAdapter(model, m, m)._1).orNull,
        options)
      val prompt = Option(plan.adapterDir).map(dir =>
        dev.peftembed.peft.PromptAdapter.load(dir, model.config, model.dir).promptEmbeddings).orNull
      val network = new BertTokenEncoder(BertModel.load(Checkpoint.open(model.dir), model.config, Device.cpu(),
        DataType.FLOAT32), prompt)
      Using.resource(SentenceEncoderLoader.create(plan, network)) { encoder =>
        val before = attached(network.manager())
        for (round <- 0 until 3) {
          encoder.encode((0 until 20).map(i => s"round $round sentence $i " + "word " * (i * 3)).asJava)
        }
        assert(attached(network.manager()) == before)
      }
    }
  }

  test("the prompt table stays valid after the garbage collector has run and its memory was reused") {
    val (adapterDir, _) = TestModels.promptAdapter(model, 8, seed = 8)
    val texts = java.util.List.of("hello", "a sentence to embed after a collection")
    Using.resource(SentenceEncoder.load(model.dir, adapterDir, EncoderOptions.defaults().withDevice("cpu",
        "float32"))) { encoder =>
      val before = encoder.encode(texts).asScala.map(_.vector.clone).toSeq
      for (_ <- 0 until 5) {
        System.gc()
        // Freed native buffers of the prompt's size are handed out again, filled with NaN bit patterns.
        val junk = (0 until 2000).map { _ =>
          val b = java.nio.ByteBuffer.allocateDirect(8 * 384 * 4)
          while (b.hasRemaining) b.put(0xFF.toByte)
          b
        }
        assert(junk.forall(b => !b.hasRemaining && b.get(0) == 0xFF.toByte), "the junk buffers were not filled")
        Thread.sleep(50)
      }
      val after = encoder.encode(texts).asScala.map(_.vector).toSeq
      assert(after.size == texts.size && before.size == texts.size)
      after.zip(before).foreach { case (a, b) => assert(a.sameElements(b), "vectors changed after a GC") }
    }
  }
}


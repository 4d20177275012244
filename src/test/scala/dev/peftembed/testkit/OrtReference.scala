package dev.peftembed.testkit

import ai.onnxruntime.{OnnxTensor, OrtEnvironment, OrtSession}
import java.nio.{FloatBuffer, LongBuffer}
import java.nio.file.Path
import scala.jdk.CollectionConverters._
import scala.util.Using

/**
 * The independent reference: ONNX Runtime running the original ONNX export, one text at a time, unpadded.
 *
 * With a prompt table, the graph's word-embedding initializer is replaced by the table with the M prompt rows
 * appended ([V+M, H]) and the ids V..V+M−1 are prepended to the input: the lookup then yields exactly PEFT's
 * cat(prompt, word_embeddings(ids)), with positions 0..M+N−1 and token type 0, and ORT computes the rest.
 */
final class OrtReference(onnx: Path, vocab: Int, hidden: Int, prompt: Option[(Array[Float], Array[Float])])
    extends AutoCloseable {
  private val env = OrtEnvironment.getEnvironment()
  private val options = new OrtSession.SessionOptions()
  options.setIntraOpNumThreads(2)
  private val override_ : Option[OnnxTensor] = prompt.map { case (table, rows) =>
    val m = rows.length / hidden
    val merged = new Array[Float](table.length + rows.length)
    System.arraycopy(table, 0, merged, 0, table.length)
    System.arraycopy(rows, 0, merged, table.length, rows.length)
    val t = OnnxTensor.createTensor(env, FloatBuffer.wrap(merged), Array((vocab + m).toLong, hidden.toLong))
    options.addInitializer("embeddings.word_embeddings.weight", t)
    t
  }
  private val session = env.createSession(onnx.toString, options)
  private val virtual = prompt.map(_._2.length / hidden).getOrElse(0)

  /** @return the last hidden state [M+N][H] for one text's real token ids */
  def hiddenStates(ids: Array[Long]): Array[Array[Float]] = {
    val full = (0 until virtual).map(i => (vocab + i).toLong).toArray ++ ids
    val shape = Array(1L, full.length.toLong)
    val inputs = Map(
      "input_ids" -> OnnxTensor.createTensor(env, LongBuffer.wrap(full), shape),
      "attention_mask" -> OnnxTensor.createTensor(env, LongBuffer.wrap(Array.fill(full.length)(1L)), shape),
      "token_type_ids" -> OnnxTensor.createTensor(env, LongBuffer.wrap(new Array[Long](full.length)), shape))
    try {
      Using.resource(session.run(inputs.asJava)) { result =>
        result.get(0).getValue.asInstanceOf[Array[Array[Array[Float]]]](0)
      }
    } finally inputs.values.foreach(_.close())
  }

  override def close(): Unit = {
    session.close()
    override_.foreach(_.close())
    options.close()
  }
}

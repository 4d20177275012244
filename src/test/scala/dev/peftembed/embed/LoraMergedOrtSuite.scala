package dev.peftembed.embed

import ai.onnxruntime.{OnnxTensor, OrtEnvironment, OrtSession}
import dev.peftembed.onnx.OnnxGraph
import dev.peftembed.peft.LoraAdapter
import dev.peftembed.testkit.{LoraFixtures, ReferencePooling}
import dev.peftembed.testkit.TestModels.RealModel
import dev.peftembed.testkit.VectorMath._
import java.nio.{FloatBuffer, LongBuffer}
import scala.jdk.CollectionConverters._
import scala.util.Using
import org.scalatest.funsuite.AnyFunSuite

/**
 * A check of the arithmetic, not of PEFT's semantics: the adapter merged here, in double, into the original ONNX
 * export's initializers (W + s·B·A into each MatMul weight, [in, out]; b + s·b_B and the saved biases into the named
 * biases) and run by ONNX Runtime, against our encoder, which merges before fusing Q/K/V and folding 1/√d.
 */
class LoraMergedOrtSuite extends AnyFunSuite {
  private val MatMulNode = "/(.+)/MatMul(_\\d+)?".r

  /** Our encoder's vectors for the fixture's texts, and ORT's with the adapter merged into the export. */
  private def compare(model: RealModel, c: String): Agreement = {
    val inputs = LoraFixtures.inputs(model)
    val dir = LoraFixtures.adapter(model, c)
    val adapter = LoraAdapter.load(dir, model.config)
    val graph = OnnxGraph.read(model.onnx)
    val env = OrtEnvironment.getEnvironment()
    val overrides = scala.collection.mutable.ArrayBuffer.empty[OnnxTensor]
    val options = new OrtSession.SessionOptions()
    options.setIntraOpNumThreads(2)
    def replace(name: String, dims: Array[Long], values: Array[Float]): Unit = {
      val t = OnnxTensor.createTensor(env, FloatBuffer.wrap(values), dims)
      options.addInitializer(name, t)
      overrides += t
    }
    val merged = scala.collection.mutable.Set.empty[String]
    for (node <- graph.nodes().asScala if node.opType == "MatMul" && node.inputs.size == 2) {
      val weight = graph.initializer(node.inputs.get(1))
      (node.name, weight.isPresent) match {
        case (MatMulNode(path, _), true) =>
          val module = path.replace('/', '.')
          Option(adapter.modules().get(module)).foreach { lora =>
            val w = weight.get
            val (in, out) = (w.dims()(0).toInt, w.dims()(1).toInt)
            val (a, b, r) = (lora.a.data, lora.b.data, lora.rank)
            val values = w.floatData().clone()
            for (i <- 0 until in; o <- 0 until out) {
              var sum = 0.0
              for (k <- 0 until r) sum += b(o * r + k).toDouble * a(k * in + i)
              values(i * out + o) = (values(i * out + o) + lora.scale * sum).toFloat
            }
            replace(w.name, w.dims(), values)
            merged += module
          }
        case _ =>
      }
    }
    assert(merged == adapter.modules().keySet().asScala, "every adapted module has its MatMul in the export")
    val biasNames = adapter.biases().keySet().asScala ++
      adapter.modules().asScala.collect { case (m, l) if l.bBias != null => s"$m.bias" }
    assert(biasNames.filterNot(graph.initializer(_).isPresent).forall(_.startsWith("pooler.")),
      "every bias the encoder reads is a named initializer of the export")
    for (name <- biasNames if graph.initializer(name).isPresent) {
      val stored = graph.initializer(name).get
      val base = Option(adapter.biases().get(name)).map(_.data).getOrElse(stored.floatData())
      val lora = Option(adapter.modules().get(name.stripSuffix(".bias"))).flatMap(l => Option(l.bBias).map(b =>
        b.data.map(x => (l.scale * x).toFloat)))
      replace(name, stored.dims(), base.indices.map(i => base(i) + lora.map(_(i)).getOrElse(0f)).toArray)
    }
    val cls = model.name.startsWith("bge")
    val expected = Using.resource(env.createSession(model.onnx.toString, options)) { session =>
      inputs.ids.map { ids =>
        val shape = Array(1L, ids.length.toLong)
        val feed = Map(
          "input_ids" -> OnnxTensor.createTensor(env, LongBuffer.wrap(ids), shape),
          "attention_mask" -> OnnxTensor.createTensor(env, LongBuffer.wrap(Array.fill(ids.length)(1L)), shape),
          "token_type_ids" -> OnnxTensor.createTensor(env, LongBuffer.wrap(new Array[Long](ids.length)), shape))
        try {
          Using.resource(session.run(feed.asJava)) { result =>
            val h = result.get(0).getValue.asInstanceOf[Array[Array[Array[Float]]]](0)
            ReferencePooling.normalize(if (cls) ReferencePooling.cls(h, 0)
            else ReferencePooling.mean(h, ReferencePooling.mask(0, ids.length, true)))
          }
        } finally feed.values.foreach(_.close())
      }
    }
    overrides.foreach(_.close())
    options.close()
    val actual = Using.resource(SentenceEncoder.load(model.dir, dir,
      EncoderOptions.defaults().withDevice("cpu", "float32")))(_.encode(inputs.texts.asJava).asScala.map(_.vector))
    var agreement = noAgreementYet
    actual.indices.foreach { i =>
      agreement = agreement.add(cosine(actual(i), expected(i)), maxAbsDiff(actual(i), expected(i)))
    }
    info(s"${model.name} $c merged into the export, ORT vs ours: $agreement")
    agreement
  }

  for ((model, c) <- Seq((LoraFixtures.models.head, "patterns-peft"), (LoraFixtures.models.head, "bias-all-peft"),
      (LoraFixtures.models(1), "all-linear-hf"))) {
    test(s"merged into the ONNX export, ONNX Runtime agrees with our encoder: $c on ${if (model eq
        LoraFixtures.models.head) "all-MiniLM-L6-v2" else "bge-small-en-v1.5"}") {
      val agreement = compare(model(), c)
      assert(agreement.worstCosine >= 0.99999 && agreement.worstAbsDiff <= 1e-5, agreement.toString)
    }
  }
}

package dev.peftembed.embed

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer
import dev.peftembed.model.SafetensorsWriter
import dev.peftembed.testkit.{ModelVariants, OrtReference, ReferencePooling, ScratchSpace, TestModels}
import dev.peftembed.testkit.VectorMath._
import java.nio.file.Path
import java.util.{Random, TreeMap}
import org.scalatest.funsuite.AnyFunSuite
import scala.jdk.CollectionConverters._
import scala.util.Using

/**
 * Dense, Normalize, text prompts, truncation to fewer dimensions, and batch invariance, against references outside
 * our code.
 */
class OutputModulesSuite extends AnyFunSuite with ScratchSpace {
  private val model = TestModels.miniLm
  private val texts = Seq("A man is playing a guitar.", "Paris is the capital of France.", "", "🚀 launch day",
    "The tokenizer must handle a somewhat longer sentence with several clauses, commas, and so on.")
  private val Out = 64

  private val rnd = new Random(11)
  private val denseWeight = Array.fill(Out * 384)((rnd.nextGaussian() * 0.1).toFloat)
  private val denseBias = Array.fill(Out)((rnd.nextGaussian() * 0.1).toFloat)

  /** The default model with a Dense(384 → 64, Tanh) and a Normalize after pooling. */
  private lazy val withDense: Path = {
    val dir = ModelVariants.copyOf(model.dir)
    ModelVariants.write(dir.resolve("2_Dense/config.json"),
      s"""{"in_features": 384, "out_features": $Out, "bias": true,
         |"activation_function": "torch.nn.modules.activation.Tanh"}""".stripMargin)
    val tensors = new TreeMap[String, SafetensorsWriter.Entry]()
    tensors.put("linear.weight", new SafetensorsWriter.Entry(Array(Out.toLong, 384L), denseWeight))
    tensors.put("linear.bias", new SafetensorsWriter.Entry(Array(Out.toLong), denseBias))
    SafetensorsWriter.write(dir.resolve("2_Dense/model.safetensors"), tensors)
    ModelVariants.write(dir.resolve("modules.json"),
      """[{"idx":0,"name":"0","path":"","type":"sentence_transformers.models.Transformer"},
        |{"idx":1,"name":"1","path":"1_Pooling","type":"sentence_transformers.models.Pooling"},
        |{"idx":2,"name":"2","path":"2_Dense","type":"sentence_transformers.models.Dense"},
        |{"idx":3,"name":"3","path":"3_Normalize","type":"sentence_transformers.models.Normalize"}]""".stripMargin)
    dir
  }

  private lazy val pooledReference: Seq[Array[Double]] =
    Using.resources(
      HuggingFaceTokenizer.builder().optTokenizerPath(model.tokenizer).optPadding(false).optTruncation(true)
        .optMaxLength(256).build(),
      new OrtReference(model.onnx, model.config.vocabSize, model.config.hiddenSize, None)) { (tok, ort) =>
      texts.map { t =>
        val ids = tok.encode(t).getIds
        ReferencePooling.mean(ort.hiddenStates(ids), ReferencePooling.mask(0, ids.length, includeVirtual = false))
      }
    }

  private def encode(dir: Path, options: EncoderOptions, input: Seq[String] = texts): Seq[Array[Float]] =
    Using.resource(SentenceEncoder.load(dir, null, options.withDevice("cpu", "float32")))(
      _.encode(input.asJava).asScala.map(_.vector).toSeq)

  private def dense(x: Array[Double]): Array[Double] =
    Array.tabulate(Out)(o => math.tanh((0 until 384).map(i => denseWeight(o * 384 + i) * x(i)).sum + denseBias(o)))

  private def norm(v: Array[Float]): Double = math.sqrt(v.map(x => x.toDouble * x).sum)

  test("Dense (Tanh) then Normalize match the reference computed in double") {
    val actual = encode(withDense, EncoderOptions.defaults())
    actual.zip(pooledReference).foreach { case (a, ref) =>
      val expected = ReferencePooling.normalize(dense(ref))
      assert(a.length == Out)
      assert(cosine(a, expected) >= 0.9999 && maxAbsDiff(a, expected) <= 1e-4, s"max|Δ| ${maxAbsDiff(a, expected)}")
    }
  }

  test("normalize=false skips the Normalize module; normalize=true after truncation gives unit vectors") {
    val raw = encode(model.dir, EncoderOptions.defaults().withOutput(Normalization.FALSE, null))
    raw.zip(pooledReference).foreach { case (a, ref) => assert(maxAbsDiff(a, ref) <= 1e-4) }
    assert(raw.exists(v => math.abs(norm(v) - 1) > 0.01))

    val cut = encode(model.dir, EncoderOptions.defaults().withOutput(Normalization.TRUE, 32))
    cut.zip(pooledReference).foreach { case (a, ref) =>
      assert(a.length == 32)
      assert(math.abs(norm(a) - 1) < 1e-5)
      assert(maxAbsDiff(a, ReferencePooling.normalize(ref.take(32))) <= 1e-4)
    }
  }

  test("truncate_dim without normalize keeps the model's normalized prefix, as sentence-transformers does") {
    val cut = encode(model.dir, EncoderOptions.defaults().withOutput(Normalization.MODEL, 16))
    cut.zip(pooledReference).foreach { case (a, ref) =>
      assert(maxAbsDiff(a, ReferencePooling.normalize(ref).take(16)) <= 1e-4)
    }
  }

  test("a text alone and inside a padded batch agree within 1e-5") {
    val target = "A short sentence that will be padded."
    val neighbours = Seq("word " * 200, target, "Another considerably longer sentence to force padding " * 5, "x")
    val alone = encode(model.dir, EncoderOptions.defaults(), Seq(target)).head
    val options = EncoderOptions.defaults().withBatching(4, 100000)
    val batched = encode(model.dir, options, neighbours)(1)
    assert(maxAbsDiff(alone, batched) <= 1e-5, s"max|Δ| ${maxAbsDiff(alone, batched)}")
  }

  test("a default text prompt is prepended, and left out of pooling when include_prompt is false") {
    val dir = ModelVariants.copyOf(model.dir)
    ModelVariants.write(dir.resolve("config_sentence_transformers.json"),
      """{"prompts": {"query": "query: ", "passage": "passage: "}, "default_prompt_name": "query"}""")
    ModelVariants.write(dir.resolve("1_Pooling/config.json"),
      """{"word_embedding_dimension": 384, "pooling_mode_mean_tokens": true, "include_prompt": false}""")
    val expected = Using.resources(
      HuggingFaceTokenizer.builder().optTokenizerPath(model.tokenizer).optPadding(false).optTruncation(true)
        .optMaxLength(256).build(),
      new OrtReference(model.onnx, model.config.vocabSize, model.config.hiddenSize, None)) { (tok, ort) =>
      val promptLength = tok.encode("query: ").getIds.length - 1
      texts.map { t =>
        val ids = tok.encode("query: " + t).getIds
        val mask = Array.tabulate(ids.length)(i => if (i < promptLength) 0.0 else 1.0)
        ReferencePooling.normalize(ReferencePooling.mean(ort.hiddenStates(ids), mask))
      }
    }
    encode(dir, EncoderOptions.defaults()).zip(expected).foreach { case (a, e) =>
      assert(maxAbsDiff(a, e) <= 1e-4, s"max|Δ| ${maxAbsDiff(a, e)}")
    }
    val unknown = intercept[IllegalArgumentException](encode(dir, EncoderOptions.defaults().withPrompt(null, "nope")))
    assert(unknown.getMessage.contains("prompt name \"nope\""))
    assert(unknown.getMessage.contains("[query, passage]"))
  }
}

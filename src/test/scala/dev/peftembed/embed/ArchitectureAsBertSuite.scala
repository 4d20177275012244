package dev.peftembed.embed

import com.fasterxml.jackson.databind.ObjectMapper
import com.fasterxml.jackson.databind.node.ObjectNode
import dev.peftembed.model.{BertConfig, SafetensorsFile, SafetensorsWriter}
import dev.peftembed.pooling.VirtualTokenPolicy
import dev.peftembed.testkit.{ModelVariants, ScratchSpace, TinyEncoders, TinyMPNet}
import dev.peftembed.testkit.VectorMath._
import java.nio.file.{Files, Path}
import java.util.{Random, TreeMap}
import org.scalatest.funsuite.AnyFunSuite
import scala.jdk.CollectionConverters._
import scala.util.Using

/**
 * Cross-checks that need no Python: XLM-RoBERTa and DistilBERT checkpoints rewritten as the BERT they are equivalent
 * to give the same vectors through the BERT path, base, prompt-tuned under both policies, and with LoRA. XLM-R's
 * rewrite drops the position rows up to pad_token_id, so that BERT's position p reads XLM-R's row pad + 1 + p;
 * DistilBERT's renames its modules and adds an all-zero token-type row.
 */
class ArchitectureAsBertSuite extends AnyFunSuite with ScratchSpace {
  private val json = new ObjectMapper()
  private val Tolerance = 1e-6

  private val DistilToBert = Seq("attention.q_lin" -> "attention.self.query", "attention.k_lin" -> "attention.self.key",
    "attention.v_lin" -> "attention.self.value", "attention.out_lin" -> "attention.output.dense",
    "sa_layer_norm" -> "attention.output.LayerNorm", "ffn.lin1" -> "intermediate.dense", "ffn.lin2" -> "output.dense",
    "output_layer_norm" -> "output.LayerNorm")

  private def tensors(dir: Path): Map[String, SafetensorsWriter.Entry] = {
    val file = SafetensorsFile.open(dir.resolve("model.safetensors"))
    file.names().asScala.map { name =>
      val t = file.read(name)
      name -> new SafetensorsWriter.Entry(t.shape(), t.data())
    }.toMap
  }

  private def writeModel(dir: Path, config: ObjectNode, weights: Map[String, SafetensorsWriter.Entry]): Path = {
    Files.writeString(dir.resolve("config.json"), json.writerWithDefaultPrettyPrinter().writeValueAsString(config))
    SafetensorsWriter.write(dir.resolve("model.safetensors"), new TreeMap(weights.asJava))
    dir
  }

  /** The BERT directory equivalent to a fixture's checkpoint, tokenizer and sentence-transformers modules kept. */
  private def asBert(f: TinyEncoders.Fixture): Path = {
    val dir = ModelVariants.copyOf(f.st)
    val c = BertConfig.read(f.st.resolve("config.json"))
    val h = c.hiddenSize().toLong
    val bert = json.createObjectNode().put("model_type", "bert").put("hidden_size", c.hiddenSize())
      .put("num_hidden_layers", c.numLayers()).put("num_attention_heads", c.numHeads())
      .put("intermediate_size", c.intermediateSize()).put("max_position_embeddings", c.positionLimit())
      .put("vocab_size", c.vocabSize()).put("type_vocab_size", 1).put("layer_norm_eps", c.layerNormEps())
      .put("hidden_act", "gelu")
    val original = tensors(f.st)
    val renamed = original.map { case (name, e) =>
      val bertName = DistilToBert.foldLeft(name.replace("transformer.layer.", "encoder.layer.")) {
        case (n, (from, to)) => n.replace(s".$from.", s".$to.")
      }
      bertName -> e
    }
    val positions = original("embeddings.position_embeddings.weight")
    val shifted = new SafetensorsWriter.Entry(Array(c.positionLimit().toLong, h),
      positions.data().drop((c.firstPosition() * h).toInt))
    val types = renamed.getOrElse("embeddings.token_type_embeddings.weight",
      new SafetensorsWriter.Entry(Array(1L, h), new Array[Float](h.toInt)))
    writeModel(dir, bert, renamed ++ Map("embeddings.position_embeddings.weight" -> shifted,
      "embeddings.token_type_embeddings.weight" -> types))
  }

  private def encode(model: Path, adapter: Path, policy: VirtualTokenPolicy, texts: Seq[String]): Seq[Array[Float]] = {
    val options = EncoderOptions.defaults().withVirtualTokens(policy).withDevice("cpu", "float32")
    Using.resource(SentenceEncoder.load(model, adapter, options))(_.encode(texts.asJava).asScala.map(_.vector).toSeq)
  }

  private def same(label: String, a: Seq[Array[Float]], b: Seq[Array[Float]]): Unit = {
    val worst = a.zip(b).map { case (x, y) => maxAbsDiff(x, y) }.max
    assert(worst <= Tolerance, s"$label: max|Δ| $worst")
    info(f"$label: max|Δ| $worst%.1e over ${a.size} texts")
  }

  /** A PEFT LoRA adapter on the query and value projections of every layer, under the model's own module names. */
  private def lora(layers: Int, hidden: Int, prefix: String, query: String, value: String): Path = {
    val dir = scratch.dir("lora")
    val config = json.createObjectNode().put("peft_type", "LORA").put("task_type", "FEATURE_EXTRACTION")
      .put("r", 2).put("lora_alpha", 4).put("lora_dropout", 0.0).put("bias", "none").put("fan_in_fan_out", false)
    config.putArray("target_modules").add(query.split('.').last).add(value.split('.').last)
    Files.writeString(dir.resolve("adapter_config.json"), config.toString)
    val random = new Random(7)
    def values(n: Int) = Array.fill(n)((random.nextGaussian() * 0.3).toFloat)
    val weights = new TreeMap[String, SafetensorsWriter.Entry]()
    for (layer <- 0 until layers; module <- Seq(query, value)) {
      val name = s"base_model.model.$prefix.$layer.$module"
      weights.put(s"$name.lora_A.weight", new SafetensorsWriter.Entry(Array(2L, hidden), values(2 * hidden)))
      weights.put(s"$name.lora_B.weight", new SafetensorsWriter.Entry(Array(hidden.toLong, 2), values(2 * hidden)))
    }
    SafetensorsWriter.write(dir.resolve("adapter_model.safetensors"), weights)
    dir
  }

  for (f <- TinyEncoders.all) {
    lazy val bert = asBert(f)

    test(s"${f.name} rewritten as BERT: the same vectors, base and prompt-tuned under both policies") {
      same(s"${f.name} base", encode(f.st, null, VirtualTokenPolicy.INCLUDE, f.texts),
        encode(bert, null, VirtualTokenPolicy.INCLUDE, f.texts))
      for (policy <- VirtualTokenPolicy.values()) {
        same(s"${f.name} prompt $policy", encode(f.st, f.adapter, policy, f.texts),
          encode(bert, f.adapter, policy, f.texts))
      }
    }

    test(s"${f.name} with LoRA on its own module names equals LoRA on the BERT rewrite, and moves the vectors") {
      val c = BertConfig.read(f.st.resolve("config.json"))
      val own = if (f == TinyEncoders.distilBert) lora(c.numLayers(), c.hiddenSize(), "transformer.layer",
        "attention.q_lin", "attention.v_lin")
      else lora(c.numLayers(), c.hiddenSize(), "encoder.layer", "attention.self.query", "attention.self.value")
      val onBert = lora(c.numLayers(), c.hiddenSize(), "encoder.layer", "attention.self.query", "attention.self.value")
      val adapted = encode(f.st, own, VirtualTokenPolicy.INCLUDE, f.texts)
      same(s"${f.name} LoRA", adapted, encode(bert, onBert, VirtualTokenPolicy.INCLUDE, f.texts))
      val base = encode(f.st, null, VirtualTokenPolicy.INCLUDE, f.texts)
      assert(adapted.zip(base).map { case (x, y) => maxAbsDiff(x, y) }.min > 1e-3, "LoRA changed nothing")
    }
  }

  test("xlm-roberta with prefix tuning equals its BERT rewrite: real tokens numbered pad + P + 1 onward") {
    val f = TinyEncoders.xlmRoberta
    val c = BertConfig.read(f.st.resolve("config.json"))
    val p = 3
    val dir = scratch.dir("prefix")
    val config = json.createObjectNode().put("peft_type", "PREFIX_TUNING").put("task_type", "FEATURE_EXTRACTION")
      .put("num_virtual_tokens", p).put("token_dim", c.hiddenSize()).put("num_transformer_submodules", 1)
      .put("num_attention_heads", c.numHeads()).put("num_layers", c.numLayers()).put("prefix_projection", false)
    Files.writeString(dir.resolve("adapter_config.json"), config.toString)
    val width = 2L * c.numLayers() * c.hiddenSize()
    val random = new Random(11)
    val table = Array.fill((p * width).toInt)(random.nextGaussian().toFloat)
    val weights = new TreeMap[String, SafetensorsWriter.Entry]()
    weights.put("prompt_embeddings", new SafetensorsWriter.Entry(Array(p.toLong, width), table))
    SafetensorsWriter.write(dir.resolve("adapter_model.safetensors"), weights)
    val prefixed = encode(f.st, dir, VirtualTokenPolicy.INCLUDE, f.texts)
    same("xlm-roberta prefix", prefixed, encode(asBert(f), dir, VirtualTokenPolicy.INCLUDE, f.texts))
    val base = encode(f.st, null, VirtualTokenPolicy.INCLUDE, f.texts)
    assert(prefixed.zip(base).map { case (x, y) => maxAbsDiff(x, y) }.min > 1e-3, "the prefix changed nothing")
  }

  test("an XLM-R with bge-m3's 8194 positions gives the vectors of its 66-position original") {
    val f = TinyEncoders.xlmRoberta
    val dir = ModelVariants.copyOf(f.st)
    val config = json.readTree(f.st.resolve("config.json").toFile).asInstanceOf[ObjectNode]
    config.put("max_position_embeddings", 8194)
    val original = tensors(f.st)
    val positions = original("embeddings.position_embeddings.weight")
    val random = new Random(3)
    val rows = positions.data() ++ Array.fill((8194 - 66) * TinyEncoders.Hidden)(random.nextGaussian().toFloat)
    writeModel(dir, config, original + ("embeddings.position_embeddings.weight" ->
      new SafetensorsWriter.Entry(Array(8194L, TinyEncoders.Hidden), rows)))
    same("8194 positions", encode(dir, f.adapter, VirtualTokenPolicy.INCLUDE, f.texts),
      encode(f.st, f.adapter, VirtualTokenPolicy.INCLUDE, f.texts))
  }

  test("named adapters over XLM-R: a LoRA adapter applied unmerged gives its merged vectors, beside a prompt") {
    val f = TinyEncoders.xlmRoberta
    val c = BertConfig.read(f.st.resolve("config.json"))
    val adapter = lora(c.numLayers(), c.hiddenSize(), "encoder.layer", "attention.self.query", "attention.self.value")
    val options = EncoderOptions.defaults().withDevice("cpu", "float32")
    val plan = MultiAdapterPlan.resolve(f.st, Map("lora" -> adapter, "prompt" -> f.adapter).asJava, options)
    val names = f.texts.indices.map(i => Seq("lora", "prompt", null)(i % 3))
    val mixed = Using.resource(MultiAdapterEncoder.load(plan))(_.encode(f.texts.asJava, names.asJava).asScala.toSeq)
    for ((name, dir) <- Seq("lora" -> adapter, "prompt" -> f.adapter, (null: String) -> (null: Path))) {
      val rows = names.indices.filter(i => names(i) == name)
      val alone = encode(f.st, dir, VirtualTokenPolicy.INCLUDE, rows.map(f.texts))
      same(s"xlm-roberta named ${Option(name).getOrElse("base")}", rows.map(mixed(_).vector), alone)
    }
  }

  test("named adapters over MPNet, and named LoRA over DistilBERT, are refused on the driver in one line") {
    val options = EncoderOptions.defaults().withDevice("cpu", "float32")
    val mpnet = intercept[IllegalArgumentException](
      MultiAdapterPlan.resolve(TinyMPNet.st, Map("p" -> TinyMPNet.adapter).asJava, options))
    assert(mpnet.getMessage.contains("model_type mpnet are not supported") && !mpnet.getMessage.contains("\n"))
    val d = TinyEncoders.distilBert
    val c = BertConfig.read(d.st.resolve("config.json"))
    val adapter = lora(c.numLayers(), c.hiddenSize(), "transformer.layer", "attention.q_lin", "attention.v_lin")
    val distil = intercept[IllegalArgumentException](
      MultiAdapterPlan.resolve(d.st, Map("l" -> adapter).asJava, options))
    assert(distil.getMessage.contains("model_type distilbert are not supported for LoRA"), distil.getMessage)
    MultiAdapterPlan.resolve(d.st, Map("p" -> d.adapter).asJava, options)
  }
}

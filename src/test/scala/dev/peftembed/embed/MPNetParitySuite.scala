package dev.peftembed.embed

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer
import dev.peftembed.model.{ModelFormatException, SafetensorsFile, SafetensorsWriter}
import dev.peftembed.pooling.VirtualTokenPolicy
import dev.peftembed.testkit.{ModelVariants, ScratchSpace, TinyMPNet}
import dev.peftembed.testkit.VectorMath._
import java.nio.file.{Files, Path}
import java.util.TreeMap
import org.scalatest.funsuite.AnyFunSuite
import scala.jdk.CollectionConverters._
import scala.util.Using

/**
 * MPNet end to end through [[SentenceEncoder]], against the references of src/test/python/make_tiny_mpnet.py, a
 * forward written from transformers' modeling_mpnet.py that shares nothing with the encoder and agrees with
 * bert_reference.py where the two architectures coincide. Cosine ≥ 0.99999 and max |Δ| ≤ 1e-5 per vector. Then the
 * same check without Python: MPNet without its relative bias is BERT, so the checkpoint rewritten as a BERT must give
 * the BERT path's vectors. Then the layout errors a driver reports in one line.
 */
class MPNetParitySuite extends AnyFunSuite with ScratchSpace {
  private val MinCosine = 0.99999
  private val MaxAbsDiff = 1e-5
  private val cpu = EncoderOptions.defaults().withDevice("cpu", "float32")

  private def encode(model: Path, adapter: Path, options: EncoderOptions): Seq[Array[Float]] =
    Using.resource(SentenceEncoder.load(model, adapter, options)) { e =>
      e.encode(TinyMPNet.texts.asJava).asScala.zipWithIndex.map { case (r, i) =>
        assert(r.succeeded, s"text $i failed: ${r.error}")
        r.vector
      }.toSeq
    }

  private def agree(label: String, actual: Seq[Array[Float]], expected: Seq[Array[Double]]): Unit = {
    assert(actual.size == expected.size, s"$label: ${actual.size} vectors for ${expected.size} references")
    var agreement = noAgreementYet
    actual.indices.foreach { i =>
      val cos = cosine(actual(i), expected(i))
      val diff = maxAbsDiff(actual(i), expected(i))
      agreement = agreement.add(cos, diff)
      assert(cos >= MinCosine && diff <= MaxAbsDiff, s"$label text $i: cosine $cos, max|Δ| $diff")
    }
    info(s"$label: $agreement")
  }

  test("the committed token ids are the real tokenizer's: <s> WordPiece </s>") {
    Using.resource(HuggingFaceTokenizer.builder().optTokenizerPath(TinyMPNet.st.resolve("tokenizer.json"))
        .optAddSpecialTokens(true).optPadding(false).optTruncation(false).build()) { t =>
      TinyMPNet.texts.zip(TinyMPNet.ids).zipWithIndex.foreach { case ((text, ids), i) =>
        assert(t.encode(text).getIds.toSeq == ids.toSeq, s"text $i (${text.take(40)})")
      }
    }
  }

  test("encode equals the reference: RoBERTa positions, relative bias in every layer, mean pooling, Normalize") {
    agree("mpnet base", encode(TinyMPNet.st, null, cpu), TinyMPNet.vectors("base"))
  }

  for ((policy, kind) <- Seq(VirtualTokenPolicy.INCLUDE -> "prompt_include",
      VirtualTokenPolicy.EXCLUDE -> "prompt_exclude")) {
    test(s"a prompt-tuning adapter, virtual tokens $policy: equals PEFT's inputs_embeds forward") {
      val actual = encode(TinyMPNet.st, TinyMPNet.adapter, cpu.withVirtualTokens(policy))
      agree(s"mpnet prompt $policy", actual, TinyMPNet.vectors(kind))
      val base = TinyMPNet.vectors("base")
      assert(actual.indices.map(i => cosine(actual(i), base(i))).min < 0.99, "the prompt barely moves the vectors")
    }
  }

  test("positions 2..513 number 512 tokens: a longer max_seq_length is cut to that, less the virtual tokens") {
    val dir = ModelVariants.copyOf(TinyMPNet.st)
    ModelVariants.write(dir.resolve("sentence_bert_config.json"), """{"max_seq_length": 600}""")
    assert(EncoderPlan.resolve(dir, null, cpu).maxRealTokens == 512)
    assert(EncoderPlan.resolve(dir, TinyMPNet.adapter, cpu).maxRealTokens == 512 - TinyMPNet.virtualTokens)
    val long = Seq.fill(600)("word").mkString(" ")
    val out = Using.resource(SentenceEncoder.load(dir, TinyMPNet.adapter, cpu))(_.encode(Seq(long).asJava)).get(0)
    assert(out.succeeded && out.truncated && out.numTokens == 512 - TinyMPNet.virtualTokens, out.toString)
  }

  /** The fixture's tensors, renamed and edited, in a copy of its directory. */
  private def rewritten(configEdit: String => String)(tensors: Map[String, SafetensorsWriter.Entry] =>
      Map[String, SafetensorsWriter.Entry]): Path = {
    val dir = ModelVariants.copyOf(TinyMPNet.st)
    val file = SafetensorsFile.open(TinyMPNet.st.resolve("model.safetensors"))
    val all = file.names().asScala.map { n =>
      val t = file.read(n)
      n -> new SafetensorsWriter.Entry(t.shape, t.data)
    }.toMap
    Files.delete(dir.resolve("model.safetensors"))
    SafetensorsWriter.write(dir.resolve("model.safetensors"), new TreeMap(tensors(all).asJava))
    val config = dir.resolve("config.json")
    Files.writeString(config, configEdit(Files.readString(config)))
    dir
  }

  private val zeroBias: Map[String, SafetensorsWriter.Entry] => Map[String, SafetensorsWriter.Entry] = all => {
    val b = all("encoder.relative_attention_bias.weight")
    all.updated("encoder.relative_attention_bias.weight", new SafetensorsWriter.Entry(b.shape,
      new Array[Float](b.data.length)))
  }

  test("without its relative bias, MPNet rewritten as the equivalent BERT gives the BERT path's vectors") {
    val mpnet = rewritten(identity)(zeroBias)
    val bert = rewritten(_.replace("\"mpnet\"", "\"bert\"").replace("\"max_position_embeddings\": 514",
        "\"max_position_embeddings\": 512").replace("\"MPNetModel\"", "\"BertModel\"")) { all =>
      val positions = all("embeddings.position_embeddings.weight")
      val hidden = positions.shape()(1).toInt
      all.collect {
        case (n, _) if n == "encoder.relative_attention_bias.weight" => None
        case (n, t) => Some(n.replace("attention.attn.q.", "attention.self.query.")
          .replace("attention.attn.k.", "attention.self.key.").replace("attention.attn.v.", "attention.self.value.")
          .replace("attention.attn.o.", "attention.output.dense.")
          .replace("attention.LayerNorm.", "attention.output.LayerNorm.") -> t)
      }.flatten.toMap
        // BERT numbers positions from 0 where MPNet numbers real tokens from 2.
        .updated("embeddings.position_embeddings.weight", new SafetensorsWriter.Entry(Array(512L, hidden),
          positions.data.drop(2 * hidden)))
        .updated("embeddings.token_type_embeddings.weight", new SafetensorsWriter.Entry(Array(2L, hidden),
          new Array[Float](2 * hidden)))
    }
    val viaBert = encode(bert, null, cpu)
    agree("mpnet without bias vs bert", encode(mpnet, null, cpu), viaBert.map(_.map(_.toDouble)))
    val withBias = encode(TinyMPNet.st, null, cpu)
    assert(viaBert.indices.map(i => cosine(withBias(i), viaBert(i).map(_.toDouble))).min < 0.9999,
      "the relative bias must matter, or this comparison shows nothing")
  }

  /** The driver's check: the plan reads headers only, before any executor loads weights. */
  private def planError(dir: Path, adapter: Path = null): String =
    intercept[ModelFormatException](EncoderPlan.resolve(dir, adapter, cpu)).getMessage

  private def oneLine(msg: String, expected: String*): Unit = {
    assert(!msg.contains("\n"), msg)
    expected.foreach(e => assert(msg.contains(e), s"'$msg' does not say '$e'"))
  }

  test("a checkpoint without encoder.relative_attention_bias fails in one line naming the directory and the key") {
    val dir = rewritten(identity)(_ - "encoder.relative_attention_bias.weight")
    oneLine(planError(dir), dir.toString, "missing tensor \"encoder.relative_attention_bias.weight\"")
  }

  test("a relative bias of another bucket count, or a projection of the wrong shape, fails in one line") {
    val buckets = rewritten(identity)(all => all.updated("encoder.relative_attention_bias.weight",
      new SafetensorsWriter.Entry(Array(64L, 4L), new Array[Float](256))))
    oneLine(planError(buckets), "model.safetensors", "\"encoder.relative_attention_bias.weight\" has shape [64, 4]",
      "[32, 4]")
    val projection = rewritten(identity)(all => all.updated("encoder.layer.1.attention.attn.o.weight",
      new SafetensorsWriter.Entry(Array(32L, 16L), new Array[Float](512))))
    oneLine(planError(projection), "model.safetensors",
      "\"encoder.layer.1.attention.attn.o.weight\" has shape [32, 16]", "[32, 32]")
  }

  test("a config.json asking for other than 32 relative buckets fails in one line: transformers computes with 32") {
    val dir = rewritten(_.replace("\"relative_attention_num_buckets\": 32", "\"relative_attention_num_buckets\": 64"))(
      identity)
    oneLine(planError(dir), "config.json", "relative_attention_num_buckets 64 is not supported", "expected 32")
  }

  /** An adapter directory holding one config and one tensor. */
  private def adapter(config: String, tensor: String, shape: Array[Long]): Path = {
    val dir = ModelVariants.copyOf(TinyMPNet.adapter)
    Files.writeString(dir.resolve("adapter_config.json"), config)
    Files.delete(dir.resolve("adapter_model.safetensors"))
    val entries = new TreeMap[String, SafetensorsWriter.Entry]()
    entries.put(tensor, new SafetensorsWriter.Entry(shape, new Array[Float](shape.product.toInt)))
    SafetensorsWriter.write(dir.resolve("adapter_model.safetensors"), entries)
    dir
  }

  test("prefix tuning and LoRA on MPNet fail on the driver in one line naming the adapter's config") {
    val prefix = adapter("""{"peft_type": "PREFIX_TUNING", "task_type": "FEATURE_EXTRACTION", "num_virtual_tokens": 4,
      "token_dim": 32, "num_layers": 2, "num_attention_heads": 4, "num_transformer_submodules": 1}""",
      "prompt_embeddings", Array(4L, 128L))
    oneLine(planError(TinyMPNet.st, prefix), "adapter_config.json", "PREFIX_TUNING", "model_type mpnet has none")
    val lora = adapter("""{"peft_type": "LORA", "task_type": "FEATURE_EXTRACTION", "r": 2, "lora_alpha": 4,
      "target_modules": ["q", "v"], "bias": "none"}""",
      "base_model.model.encoder.layer.0.attention.attn.q.lora_A.weight", Array(2L, 32L))
    oneLine(planError(TinyMPNet.st, lora), "adapter_config.json", "LORA is not supported on model_type mpnet")
  }
}

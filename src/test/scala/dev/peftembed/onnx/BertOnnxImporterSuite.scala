package dev.peftembed.onnx

import com.fasterxml.jackson.databind.{JsonNode, ObjectMapper}
import dev.peftembed.model.{ModelFormatException, SafetensorsWriter}
import dev.peftembed.model.SafetensorsWriter.Entry
import dev.peftembed.onnx.ProtoReader.MalformedProtoException
import java.io.ByteArrayOutputStream
import java.nio.{ByteBuffer, ByteOrder}
import java.nio.channels.FileChannel
import java.nio.charset.StandardCharsets.UTF_8
import java.nio.file.{DirectoryNotEmptyException, Files, Path, StandardOpenOption}
import java.util.TreeMap
import org.scalatest.funsuite.AnyFunSuite
import scala.jdk.CollectionConverters._
import scala.util.Using

import BertOnnxImporterSuite.{Imported, Pb}
import dev.peftembed.testkit.ScratchSpace

/**
 * Imports the two ONNX exports shipped in the langchain4j jars on the test classpath and checks the resulting
 * sentence-transformers directories; synthetic protobufs cover the cases those two models do not exercise.
 */
class BertOnnxImporterSuite extends AnyFunSuite with ScratchSpace {

  private val json = new ObjectMapper()
  private lazy val tmp: Path = scratch.dir("bert-onnx-importer")

  private lazy val miniLm = importShipped("all-minilm-l6-v2")
  private lazy val bgeSmall = importShipped("bge-small-en-v1.5")

  // --- Fixtures ---------------------------------------------------------------------------------------------------

  private def resource(name: String): Path = {
    val target = tmp.resolve(name)
    if (!Files.exists(target)) {
      val in = getClass.getClassLoader.getResourceAsStream(name)
      assert(in != null, s"$name is not on the test classpath")
      Using.resource(in)(Files.copy(_, target))
    }
    target
  }

  private def importShipped(model: String): Imported = {
    val onnx = resource(s"$model.onnx")
    val tokenizer = resource(s"$model-tokenizer.json")
    val dir = tmp.resolve(s"$model-st")
    val start = System.nanoTime()
    BertOnnxImporter.importModel(onnx, tokenizer, ImportOptions.defaults(), dir)
    Imported(onnx, tokenizer, dir, (System.nanoTime() - start) / 1000000)
  }

  private def readJson(file: Path): JsonNode = json.readTree(file.toFile)

  private def listNames(dir: Path): List[String] =
    Using.resource(Files.list(dir))(_.iterator().asScala.map(_.getFileName.toString).toList)


  /** Reads a safetensors file with nothing but Jackson and NIO, independently of the writer. */
  private final class Safetensors(val file: Path) {
    private val (headerLength, header) = Using.resource(FileChannel.open(file)) { ch =>
      val len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN)
      ch.read(len, 0)
      val n = len.flip().getLong
      val bytes = ByteBuffer.allocate(n.toInt)
      ch.read(bytes, 8)
      (n, json.readTree(new String(bytes.array(), UTF_8)))
    }

    def headerBytes: Long = headerLength
    def metadata: JsonNode = header.get("__metadata__")
    def names: Set[String] = header.fieldNames().asScala.filter(_ != "__metadata__").toSet
    def dtype(name: String): String = header.get(name).get("dtype").asText()
    def shape(name: String): Seq[Long] = header.get(name).get("shape").elements().asScala.map(_.asLong()).toSeq
    def offsets(name: String): (Long, Long) = {
      val o = header.get(name).get("data_offsets")
      (o.get(0).asLong(), o.get(1).asLong())
    }

    def floats(name: String): Array[Float] = {
      val (begin, end) = offsets(name)
      val buf = ByteBuffer.allocate((end - begin).toInt).order(ByteOrder.LITTLE_ENDIAN)
      Using.resource(FileChannel.open(file))(_.read(buf, 8 + headerLength + begin))
      val out = new Array[Float](buf.capacity() / 4)
      buf.flip().asFloatBuffer().get(out)
      out
    }
  }

  /** The parameters of a Hugging Face BertModel without pooler, with nn.Linear's [out, in] weight layout. */
  private def bertShapes(hidden: Long, layers: Int, intermediate: Long, vocab: Long, positions: Long,
      types: Long): Map[String, Seq[Long]] = {
    val embeddings = Map(
      "embeddings.word_embeddings.weight" -> Seq(vocab, hidden),
      "embeddings.position_embeddings.weight" -> Seq(positions, hidden),
      "embeddings.token_type_embeddings.weight" -> Seq(types, hidden),
      "embeddings.LayerNorm.weight" -> Seq(hidden),
      "embeddings.LayerNorm.bias" -> Seq(hidden))
    val perLayer = (0 until layers).flatMap { l =>
      val p = s"encoder.layer.$l."
      Seq("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense")
        .flatMap(m => Seq(s"$p$m.weight" -> Seq(hidden, hidden), s"$p$m.bias" -> Seq(hidden))) ++
        Seq(
          s"${p}intermediate.dense.weight" -> Seq(intermediate, hidden),
          s"${p}intermediate.dense.bias" -> Seq(intermediate),
          s"${p}output.dense.weight" -> Seq(hidden, intermediate),
          s"${p}output.dense.bias" -> Seq(hidden)) ++
        Seq("attention.output.LayerNorm", "output.LayerNorm")
          .flatMap(m => Seq(s"$p$m.weight" -> Seq(hidden), s"$p$m.bias" -> Seq(hidden)))
    }
    embeddings ++ perLayer
  }

  private def assertConfig(dir: Path, hidden: Int, layers: Int, heads: Int, intermediate: Int): Unit = {
    val c = readJson(dir.resolve("config.json"))
    assert(c.get("architectures").get(0).asText() == "BertModel")
    assert(c.get("model_type").asText() == "bert")
    assert(c.get("hidden_size").asInt() == hidden)
    assert(c.get("num_hidden_layers").asInt() == layers)
    assert(c.get("num_attention_heads").asInt() == heads)
    assert(c.get("intermediate_size").asInt() == intermediate)
    assert(c.get("max_position_embeddings").asInt() == 512)
    assert(c.get("vocab_size").asInt() == 30522)
    assert(c.get("type_vocab_size").asInt() == 2)
    assert(c.get("layer_norm_eps").asDouble() == 1e-12)
    assert(c.get("hidden_act").asText() == "gelu")
    assert(c.get("pad_token_id").asInt() == 0)
  }

  private def assertWeights(dir: Path, layers: Int): Unit = {
    val st = new Safetensors(dir.resolve("model.safetensors"))
    val expected = bertShapes(384, layers, 1536, 30522, 512, 2)
    assert(st.names == expected.keySet, "weight names differ from a BertModel's")
    for ((name, shape) <- expected) {
      assert(st.shape(name) == shape, name)
      assert(st.dtype(name) == "F32", name)
    }
    assert(st.shape("encoder.layer.0.attention.self.query.weight") == Seq(384, 384))
    assert(st.shape("encoder.layer.0.intermediate.dense.weight") == Seq(1536, 384))
    assert(st.shape("encoder.layer.0.output.dense.weight") == Seq(384, 1536))
  }

  /** Checks that a stored [out, in] weight is exactly the ONNX [in, out] MatMul initializer transposed. */
  private def assertTransposed(model: Imported, matMulNode: String, weight: String): Unit = {
    val graph = OnnxGraph.read(model.onnx)
    val node = graph.nodes().asScala.find(_.name() == matMulNode).getOrElse(fail(s"no node $matMulNode"))
    val init = graph.initializer(node.inputs().get(1)).orElseThrow()
    assert(init.name().startsWith("onnx::MatMul_"))
    val Array(in, out) = init.dims()
    val original = init.floatData()
    val stored = new Safetensors(model.dir.resolve("model.safetensors")).floats(weight)
    assert(stored.length == original.length)
    for (i <- 0 until in.toInt; o <- 0 until out.toInt) {
      if (stored(o * in.toInt + i) != original(i * out.toInt + o)) fail(s"$weight[$o, $i] differs")
    }
    // A few fixed points, so a transposition that is the identity (square weights) could not pass by accident.
    assert(stored(1) == original(out.toInt))
    assert(stored(in.toInt) == original(1))
    assert(stored(1) != stored(in.toInt))
  }

  // --- The shipped exports ----------------------------------------------------------------------------------------

  test("all-MiniLM-L6-v2: config.json is derived from the graph") {
    assertConfig(miniLm.dir, hidden = 384, layers = 6, heads = 12, intermediate = 1536)
    info(s"imported in ${miniLm.millis} ms")
  }

  test("bge-small-en-v1.5: config.json is derived from the graph") {
    assertConfig(bgeSmall.dir, hidden = 384, layers = 12, heads = 12, intermediate = 1536)
    info(s"imported in ${bgeSmall.millis} ms")
  }

  test("all-MiniLM-L6-v2: exactly the BertModel weights, with [out, in] linear weights") {
    assertWeights(miniLm.dir, layers = 6)
  }

  test("bge-small-en-v1.5: exactly the BertModel weights, with [out, in] linear weights") {
    assertWeights(bgeSmall.dir, layers = 12)
  }

  test("MatMul weights are the ONNX initializers transposed, named after their node") {
    assertTransposed(miniLm, "/encoder/layer.0/attention/self/query/MatMul",
      "encoder.layer.0.attention.self.query.weight")
    assertTransposed(miniLm, "/encoder/layer.5/intermediate/dense/MatMul", "encoder.layer.5.intermediate.dense.weight")
    assertTransposed(bgeSmall, "/encoder/layer.11/output/dense/MatMul", "encoder.layer.11.output.dense.weight")
  }

  test("named initializers are stored unchanged") {
    val graph = OnnxGraph.read(miniLm.onnx)
    val st = new Safetensors(miniLm.dir.resolve("model.safetensors"))
    for (name <- Seq("embeddings.word_embeddings.weight", "encoder.layer.3.attention.self.key.bias")) {
      assert(st.floats(name).sameElements(graph.initializer(name).orElseThrow().floatData()), name)
    }
  }

  test("the directory is a sentence-transformers model with mean pooling and normalization by default") {
    val dir = miniLm.dir
    val modules = readJson(dir.resolve("modules.json"))
    assert(modules.size() == 3)
    val expected = Seq(
      ("", "sentence_transformers.models.Transformer"),
      ("1_Pooling", "sentence_transformers.models.Pooling"),
      ("2_Normalize", "sentence_transformers.models.Normalize"))
    for (((path, tpe), i) <- expected.zipWithIndex) {
      val m = modules.get(i)
      assert(m.get("idx").asInt() == i)
      assert(m.get("name").asText() == i.toString)
      assert(m.get("path").asText() == path)
      assert(m.get("type").asText() == tpe)
    }
    val pooling = readJson(dir.resolve("1_Pooling/config.json"))
    assert(pooling.get("word_embedding_dimension").asInt() == 384)
    assert(pooling.get("pooling_mode_mean_tokens").asBoolean())
    for (mode <- Seq("cls_token", "max_tokens", "mean_sqrt_len_tokens", "weightedmean_tokens", "lasttoken")) {
      assert(pooling.has(s"pooling_mode_$mode") && !pooling.get(s"pooling_mode_$mode").asBoolean(), mode)
    }
    assert(pooling.get("include_prompt").asBoolean())
    val st = readJson(dir.resolve("sentence_bert_config.json"))
    assert(st.get("max_seq_length").asInt() == 256)
    assert(!st.get("do_lower_case").asBoolean())
    assert(Files.isDirectory(dir.resolve("2_Normalize")))
    assert(listNames(dir.resolve("2_Normalize")).isEmpty)
    assert(Files.mismatch(dir.resolve("tokenizer.json"), miniLm.tokenizer) == -1L)
    assert(!listNames(tmp).exists(_.contains(".importing-")))
  }

  test("options choose pooling, normalization, sequence length and heads") {
    val dir = tmp.resolve("minilm-cls")
    BertOnnxImporter.importModel(miniLm.onnx, miniLm.tokenizer, new ImportOptions("cls", false, 128, 12), dir)
    val modules = readJson(dir.resolve("modules.json"))
    assert(modules.size() == 2)
    assert(!Files.exists(dir.resolve("2_Normalize")))
    val pooling = readJson(dir.resolve("1_Pooling/config.json"))
    assert(pooling.get("pooling_mode_cls_token").asBoolean())
    assert(!pooling.get("pooling_mode_mean_tokens").asBoolean())
    assert(readJson(dir.resolve("sentence_bert_config.json")).get("max_seq_length").asInt() == 128)
    assert(readJson(dir.resolve("config.json")).get("num_attention_heads").asInt() == 12)
  }

  test("options are validated") {
    intercept[IllegalArgumentException](new ImportOptions("avg", true, 256, null))
    intercept[IllegalArgumentException](new ImportOptions("mean", true, 0, null))
    intercept[IllegalArgumentException](new ImportOptions("mean", true, 256, 0))
    val tooLong = intercept[IllegalArgumentException] {
      BertOnnxImporter.importModel(miniLm.onnx, miniLm.tokenizer, new ImportOptions("mean", true, 1024, null),
        tmp.resolve("too-long"))
    }
    assert(tooLong.getMessage.contains("512"))
    assert(!Files.exists(tmp.resolve("too-long")))
    intercept[IllegalArgumentException] {
      BertOnnxImporter.importModel(miniLm.onnx, miniLm.tokenizer, new ImportOptions("mean", true, 256, 5),
        tmp.resolve("five-heads"))
    }
  }

  // --- Bad input --------------------------------------------------------------------------------------------------

  private def assertRejected(onnx: Path): ModelFormatException = {
    val out = tmp.resolve(onnx.getFileName.toString + "-st")
    val e = intercept[ModelFormatException] {
      BertOnnxImporter.importModel(onnx, miniLm.tokenizer, ImportOptions.defaults(), out)
    }
    assert(e.getMessage.startsWith(onnx.toString + ": "), e.getMessage)
    assert(!Files.exists(out))
    e
  }

  test("a truncated .onnx file is rejected with a message naming it") {
    val truncated = tmp.resolve("truncated.onnx")
    Using.resource(FileChannel.open(miniLm.onnx)) { in =>
      Using.resource(FileChannel.open(truncated, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) { out =>
        in.transferTo(0, in.size() / 2, out)
      }
    }
    val e = assertRejected(truncated)
    assert(e.getMessage.contains("exceeds"), e.getMessage)
  }

  test("a garbage file is rejected with a message naming it") {
    val garbage = tmp.resolve("garbage.onnx")
    val rnd = new scala.util.Random(42)
    Files.write(garbage, Array.fill[Byte](100000)(rnd.nextInt(256).toByte))
    assertRejected(garbage)
    val text = tmp.resolve("text.onnx")
    Files.writeString(text, "this is not an ONNX model\n")
    assertRejected(text)
  }

  test("an invalid tokenizer.json is rejected before any work") {
    val bad = tmp.resolve("bad-tokenizer.json")
    Files.writeString(bad, "{\"model\": ")
    val e = intercept[ModelFormatException] {
      BertOnnxImporter.importModel(miniLm.onnx, bad, ImportOptions.defaults(), tmp.resolve("bad-tok-st"))
    }
    assert(e.getMessage.startsWith(bad.toString + ": "))
  }

  test("a non-empty output directory is left alone") {
    val dir = Files.createDirectories(tmp.resolve("occupied"))
    Files.writeString(dir.resolve("keep.txt"), "mine")
    intercept[DirectoryNotEmptyException] {
      BertOnnxImporter.importModel(miniLm.onnx, miniLm.tokenizer, ImportOptions.defaults(), dir)
    }
    assert(listNames(dir) == List("keep.txt"))
  }

  // --- Synthetic graphs -------------------------------------------------------------------------------------------

  /** A TensorProto with unpacked dims; data as raw_data or as packed float_data. */
  private def floatTensor(name: String, dims: Seq[Long], raw: Boolean, extra: Array[Byte] = Array.empty)
      : (Array[Byte], Array[Float]) = {
    val values = Array.tabulate(dims.product.toInt)(i => (name.hashCode % 97) + i * 0.25f)
    val data = if (raw) Pb.bytes(9, Pb.le(values)) else Pb.bytes(4, Pb.le(values))
    (dims.flatMap(Pb.int(1, _)).toArray ++ Pb.int(2, 1) ++ Pb.str(8, name) ++ data ++ extra, values)
  }

  private def node(name: String, op: String, inputs: Seq[String], attributes: Array[Byte]*): Array[Byte] =
    inputs.flatMap(Pb.str(1, _)).toArray ++ Pb.str(2, s"${name}_output_0") ++ Pb.str(3, name) ++ Pb.str(4, op) ++
      attributes.flatMap(Pb.bytes(5, _))

  /**
   * A one-layer BERT with hidden size 4, two heads of size 2 and intermediate size 8. Its linear weights are
   * anonymous [in, out] MatMul inputs; the attention scale is a Mul by 1/sqrt(2); LayerNorm is a fused
   * LayerNormalization with epsilon 1e-5, and the activation is the tanh approximation of GELU.
   */
  private def tinyBert(withScale: Boolean, extraInitializers: Seq[Array[Byte]] = Nil,
      extraNodes: Seq[Array[Byte]] = Nil): (Array[Byte], Map[String, Array[Float]]) = {
    val named = Seq(
      "embeddings.word_embeddings.weight" -> Seq(10L, 4L),
      "embeddings.position_embeddings.weight" -> Seq(6L, 4L),
      "embeddings.token_type_embeddings.weight" -> Seq(2L, 4L),
      "embeddings.LayerNorm.weight" -> Seq(4L),
      "embeddings.LayerNorm.bias" -> Seq(4L)) ++
      Seq("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
        "attention.output.LayerNorm", "output.dense", "output.LayerNorm")
        .map(m => s"encoder.layer.0.$m.bias" -> Seq(4L)) ++
      Seq("attention.output.LayerNorm", "output.LayerNorm").map(m => s"encoder.layer.0.$m.weight" -> Seq(4L)) ++
      Seq("encoder.layer.0.intermediate.dense.bias" -> Seq(8L))
    val linear = Seq(
      "attention/self/query" -> Seq(4L, 4L), "attention/self/key" -> Seq(4L, 4L),
      "attention/self/value" -> Seq(4L, 4L), "attention/output/dense" -> Seq(4L, 4L),
      "intermediate/dense" -> Seq(4L, 8L), "output/dense" -> Seq(8L, 4L))
    val namedTensors = named.zipWithIndex.map { case ((n, d), i) => floatTensor(n, d, raw = i % 2 == 0) -> n }
    val linearTensors = linear.zipWithIndex.map { case ((_, d), i) =>
      floatTensor(s"onnx::MatMul_${100 + i}", d, raw = true)
    }
    val positionIds = Pb.int(1, 1) ++ Pb.int(1, 6) ++ Pb.int(2, 7) ++ Pb.str(8, "embeddings.position_ids") ++
      Pb.bytes(9, Array.fill[Byte](48)(0))
    val scale = Pb.int(2, 1) ++ Pb.str(8, "onnx::Mul_200") ++ Pb.float(4, (1 / math.sqrt(2)).toFloat)
    val eps = Pb.str(1, "epsilon") ++ Pb.float(2, 1e-5f) ++ Pb.int(20, 1)
    val nodes = linear.zipWithIndex.map { case ((path, _), i) =>
      node(s"/encoder/layer.0/$path/MatMul", "MatMul", Seq("x", s"onnx::MatMul_${100 + i}"))
    } ++ (if (withScale) Seq(node("/encoder/layer.0/attention/self/Mul", "Mul",
      Seq("/encoder/layer.0/attention/self/MatMul_output_0", "onnx::Mul_200")))
    else Nil) ++ Seq(
      node("/encoder/layer.0/attention/output/LayerNorm/LayerNormalization", "LayerNormalization",
        Seq("x", "encoder.layer.0.attention.output.LayerNorm.weight"), eps),
      node("/encoder/layer.0/intermediate/intermediate_act_fn/Tanh", "Tanh", Seq("x"))) ++ extraNodes
    val initializers = namedTensors.map(_._1._1) ++ linearTensors.map(_._1) ++ Seq(positionIds, scale) ++
      extraInitializers
    val graph = nodes.flatMap(Pb.bytes(1, _)).toArray ++ initializers.flatMap(Pb.bytes(5, _)) ++ Pb.str(2, "tiny")
    val model = Pb.int(1, 8) ++ Pb.str(2, "test") ++ Pb.bytes(7, graph)
    val values = namedTensors.map { case ((_, v), n) => n -> v }.toMap ++
      linear.zip(linearTensors).map { case ((path, _), (_, v)) =>
        s"encoder.layer.0.${path.replace('/', '.')}.weight" -> v
      }
    (model, values)
  }

  private def writeModel(name: String, bytes: Array[Byte]): Path = Files.write(tmp.resolve(name), bytes)

  test("synthetic graph: typed and raw data, Mul scale, fused LayerNorm and tanh GELU") {
    val (bytes, values) = tinyBert(withScale = true)
    val dir = tmp.resolve("tiny-st")
    BertOnnxImporter.importModel(writeModel("tiny.onnx", bytes), miniLm.tokenizer,
      new ImportOptions("mean", true, 6, null), dir)
    val c = readJson(dir.resolve("config.json"))
    assert(c.get("hidden_size").asInt() == 4)
    assert(c.get("num_hidden_layers").asInt() == 1)
    assert(c.get("num_attention_heads").asInt() == 2)
    assert(c.get("intermediate_size").asInt() == 8)
    assert(c.get("vocab_size").asInt() == 10)
    assert(c.get("max_position_embeddings").asInt() == 6)
    assert(c.get("layer_norm_eps").asDouble() == 1e-5)
    assert(c.get("hidden_act").asText() == "gelu_new")
    val st = new Safetensors(dir.resolve("model.safetensors"))
    assert(st.names == bertShapes(4, 1, 8, 10, 6, 2).keySet)
    assert(st.floats("embeddings.LayerNorm.weight").sameElements(values("embeddings.LayerNorm.weight")))
    assert(st.floats("embeddings.LayerNorm.bias").sameElements(values("embeddings.LayerNorm.bias")))
    val inter = values("encoder.layer.0.intermediate.dense.weight") // [4, 8] as stored in the graph
    val stored = st.floats("encoder.layer.0.intermediate.dense.weight") // [8, 4]
    assert(st.shape("encoder.layer.0.intermediate.dense.weight") == Seq(8, 4))
    for (i <- 0 until 4; o <- 0 until 8) assert(stored(o * 4 + i) == inter(i * 8 + o))
  }

  test("synthetic graph: without a scale or reshape the head count must be given") {
    val onnx = writeModel("no-heads.onnx", tinyBert(withScale = false)._1)
    val e = intercept[ModelFormatException] {
      BertOnnxImporter.importModel(onnx, miniLm.tokenizer, new ImportOptions("mean", true, 6, null),
        tmp.resolve("no-heads-st"))
    }
    assert(e.getMessage.startsWith(onnx.toString + ": ") && e.getMessage.contains("--num-heads"), e.getMessage)
    val dir = tmp.resolve("given-heads-st")
    BertOnnxImporter.importModel(onnx, miniLm.tokenizer, new ImportOptions("mean", true, 6, 2), dir)
    assert(readJson(dir.resolve("config.json")).get("num_attention_heads").asInt() == 2)
  }

  test("synthetic graph: a RoBERTa-style export, numbering positions with a CumSum over the ids, is refused") {
    val cumsum = node("/embeddings/CumSum", "CumSum", Seq("/embeddings/Cast_output_0", "/embeddings/Constant_output_0"))
    val e = assertRejected(writeModel("roberta.onnx", tinyBert(withScale = true, extraNodes = Seq(cumsum))._1))
    assert(e.getMessage.contains("CumSum") && e.getMessage.contains("sentence-transformers directory"), e.getMessage)
  }

  test("synthetic graph: tensors with external data are rejected") {
    val location = Pb.int(14, 1)
    val (external, _) = floatTensor("pooler.dense.weight", Seq(4L, 4L), raw = false, extra = location)
    val onnx = writeModel("external.onnx", tinyBert(withScale = true, Seq(external))._1)
    val e = assertRejected(onnx)
    assert(e.getMessage.contains("external"), e.getMessage)
  }

  // --- Wire format and safetensors --------------------------------------------------------------------------------

  test("ProtoReader reads packed and unpacked repeated fields, and bounds every length") {
    val msg = Pb.int(1, 3) ++ Pb.int(1, 150) ++ Pb.bytes(1, Pb.varint(7) ++ Pb.varint(-1)) ++ Pb.str(2, "hé") ++
      Pb.float(3, 2.5f) ++ Pb.fixed64(4, -2L) ++ Pb.int(9, 1)
    val r = ProtoReader.of(msg)
    val ints = scala.collection.mutable.ArrayBuffer[Long]()
    var text = ""
    var f = 0f
    var fixed = 0L
    while (r.next()) r.fieldNumber() match {
      case 1 => r.readRepeatedVarint(v => ints += v)
      case 2 => text = r.readString()
      case 3 => f = r.readFloat()
      case 4 => fixed = r.readFixed64()
      case _ => r.skip()
    }
    assert(ints == Seq(3L, 150L, 7L, -1L))
    assert(text == "hé")
    assert(f == 2.5f)
    assert(fixed == -2L)

    val overlong = Pb.varint((1L << 3) | 2) ++ Pb.varint(1000) ++ Array[Byte](1, 2, 3)
    val e = intercept[MalformedProtoException] {
      val p = ProtoReader.of(overlong)
      p.next()
      p.readBytes()
    }
    assert(e.getMessage.contains("exceeds"))
    intercept[MalformedProtoException](ProtoReader.of(Array(0x80.toByte)).next())
    intercept[MalformedProtoException] {
      val p = ProtoReader.of(Array[Byte](8, 0x80.toByte))
      p.next()
      p.readVarint()
    }
    intercept[MalformedProtoException] {
      val p = ProtoReader.of(Pb.int(1, 5))
      p.next()
      p.readBytes()
    }
  }

  test("SafetensorsWriter round trip: header, offsets and data") {
    val tensors = new TreeMap[String, Entry]()
    tensors.put("b.weight", new Entry(Array(2L, 3L), Array(1f, 2f, 3f, 4f, 5f, 6f)))
    tensors.put("a.bias", new Entry(Array(3L), Array(-1f, 0.5f, Float.MaxValue)))
    tensors.put("c.scalar", new Entry(Array.emptyLongArray, Array(42f)))
    val file = tmp.resolve("roundtrip.safetensors")
    SafetensorsWriter.write(file, tensors)

    val st = new Safetensors(file)
    assert(st.headerBytes % 8 == 0)
    assert(st.metadata.get("format").asText() == "pt")
    assert(st.names == Set("a.bias", "b.weight", "c.scalar"))
    assert(st.offsets("a.bias") == (0L, 12L))
    assert(st.offsets("b.weight") == (12L, 36L))
    assert(st.offsets("c.scalar") == (36L, 40L))
    assert(st.shape("b.weight") == Seq(2L, 3L))
    assert(st.shape("c.scalar").isEmpty)
    assert(Files.size(file) == 8 + st.headerBytes + 40)
    for (name <- st.names) assert(st.floats(name).sameElements(tensors.get(name).data()), name)

    intercept[IllegalArgumentException](new Entry(Array(2L, 2L), Array(1f, 2f, 3f)))
  }

  test("SafetensorsWriter streams tensors larger than its staging buffer") {
    val big = Array.tabulate(200003)(_.toFloat)
    val tensors = new TreeMap[String, Entry]()
    tensors.put("big", new Entry(Array(big.length.toLong), big))
    val file = tmp.resolve("big.safetensors")
    SafetensorsWriter.write(file, tensors)
    assert(new Safetensors(file).floats("big").sameElements(big))
  }
}

object BertOnnxImporterSuite {

  final case class Imported(onnx: Path, tokenizer: Path, dir: Path, millis: Long)

  /** Just enough protobuf encoding to write ONNX messages by field number. */
  object Pb {
    def varint(v: Long): Array[Byte] = {
      val out = new ByteArrayOutputStream()
      var x = v
      while ((x & ~0x7FL) != 0) {
        out.write(((x & 0x7F) | 0x80).toInt)
        x >>>= 7
      }
      out.write(x.toInt)
      out.toByteArray
    }
    def int(field: Int, v: Long): Array[Byte] = varint(field.toLong << 3) ++ varint(v)
    def bytes(field: Int, b: Array[Byte]): Array[Byte] = varint((field.toLong << 3) | 2) ++ varint(b.length) ++ b
    def str(field: Int, s: String): Array[Byte] = bytes(field, s.getBytes(UTF_8))
    def float(field: Int, f: Float): Array[Byte] = varint((field.toLong << 3) | 5) ++ le(Array(f))
    def fixed64(field: Int, v: Long): Array[Byte] =
      varint((field.toLong << 3) | 1) ++ ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array()
    def le(fs: Array[Float]): Array[Byte] = {
      val b = ByteBuffer.allocate(fs.length * 4).order(ByteOrder.LITTLE_ENDIAN)
      b.asFloatBuffer().put(fs)
      b.array()
    }
  }
}

package dev.peftembed.model

import com.fasterxml.jackson.databind.{JsonNode, ObjectMapper}
import com.fasterxml.jackson.databind.node.{ArrayNode, JsonNodeFactory, ObjectNode}
import dev.peftembed.embed.{EncoderOptions, EncoderPlan, SentenceEncoder}
import dev.peftembed.peft.PromptAdapter
import dev.peftembed.testkit.{BadFiles, ModelVariants, ScratchSpace, TestModels, TinyEncoders, TinyPromptBert}
import java.io.RandomAccessFile
import java.nio.{ByteBuffer, ByteOrder}
import java.nio.charset.StandardCharsets.UTF_8
import java.nio.file.{Files, Path, StandardCopyOption}
import java.util.Random
import java.util.concurrent.{Callable, Executors, TimeUnit, TimeoutException}
import org.scalatest.funsuite.AnyFunSuite
import scala.collection.mutable
import scala.jdk.CollectionConverters._
import scala.util.Using

/**
 * Corrupt model files never crash the loader: real model and adapter files, mutated with a fixed seed, loaded through
 * the real loading path. A mutant may load (the mutation was harmless) or fail with a [[ModelFormatException]] whose
 * message is one line naming a file of the mutated directory. Any other exception, an error (OOM, stack overflow), or
 * a load that takes longer than the per-case timeout fails the test with the iteration and the mutation, to replay.
 */
class ModelFuzzSuite extends AnyFunSuite with ScratchSpace {
  /** Fixed for the build; PEFTEMBED_FUZZ_SEED and PEFTEMBED_FUZZ_ITERATIONS explore further by hand. */
  private val Seed = sys.env.get("PEFTEMBED_FUZZ_SEED").map(_.toLong).getOrElse(20261128L)
  private val Iterations = sys.env.get("PEFTEMBED_FUZZ_ITERATIONS").map(_.toInt).getOrElse(6000)
  private val CaseTimeoutSeconds = 20L
  /** PEFTEMBED_FUZZ_REPLAY=N mutates as usual but loads only iteration N, and keeps its mutant. */
  private val replay: Option[Int] = sys.env.get("PEFTEMBED_FUZZ_REPLAY").map(_.toInt)

  private val json = new ObjectMapper()
  private val cpu = EncoderOptions.defaults().withDevice("cpu", "float32")
  private val texts = java.util.List.of("a short text", "", "another, somewhat longer text with more words in it")

  /** One file to mutate, in a scratch directory, and the loading path that reads it. */
  private final case class Target(name: String, dir: Path, file: String, kind: Kind, load: () => Unit) {
    val path: Path = dir.resolve(file)
    private lazy val size = Files.size(path)
    /** The file's bytes; for a sparse header copy, its header region only. */
    lazy val original: Array[Byte] =
      if (kind == SafetensorsHeader) Files.readAllBytes(path).take(BadFiles.layout(path).dataStart.toInt)
      else Files.readAllBytes(path)
    def restore(): Unit = {
      Files.write(path, original)
      if (kind == SafetensorsHeader) restoreLength()
    }
    def restoreLength(): Unit = Using.resource(new RandomAccessFile(path.toFile, "rw"))(_.setLength(size))
  }

  private sealed trait Kind
  private case object JsonConfig extends Kind
  private case object Safetensors extends Kind
  /** A safetensors file kept only up to the end of its header, extended sparsely to its real length. */
  private case object SafetensorsHeader extends Kind
  /** A TorchScript archive: a zip of pickles, code and tensor data. */
  private case object TorchScriptZip extends Kind

  private def variant(source: Path): Path = ModelVariants.copyOf(source)

  private def encode(model: Path, adapter: Path): Unit =
    Using.resource(SentenceEncoder.load(model, adapter, cpu))(_.encode(texts))

  private lazy val targets: Seq[Target] = {
    val tiny = variant(TinyPromptBert.st)
    val tinyForAdapter = TinyPromptBert.st
    val tinyAdapter = variant(TinyPromptBert.adapter)
    val mini = TestModels.miniLm
    val miniConfigs = variant(mini.dir)
    val miniHeader = BadFiles.variantWith(mini.dir, "model.safetensors")((src, dst) => sparseHeaderCopy(src, dst))
    val miniAdapter = variant(TestModels.promptAdapter(mini, 8, seed = 8)._1)
    val tinyLoad = () => encode(tiny, null)
    val tinyAdapterLoad = () => encode(tinyForAdapter, tinyAdapter)
    val miniPlan = () => { EncoderPlan.resolve(miniConfigs, null, cpu); () }
    val miniAdapterLoad = () => {
      EncoderPlan.resolve(mini.dir, miniAdapter, cpu)
      PromptAdapter.load(miniAdapter, mini.config, mini.dir); ()
    }
    val sharded = variant(TinyPromptBert.st)
    val shard = "model-00001-of-00001.safetensors"
    Files.move(sharded.resolve("model.safetensors"), sharded.resolve(shard))
    val weightMap = json.createObjectNode()
    SafetensorsFile.open(sharded.resolve(shard)).names().asScala.foreach(weightMap.put(_, shard))
    Files.write(sharded.resolve("model.safetensors.index.json"),
      json.writeValueAsBytes(json.createObjectNode().set[JsonNode]("weight_map", weightMap)))
    val graph = variant(TinyPromptBert.promptGraph)
    val xlmr = variant(TinyEncoders.xlmRoberta.st)
    val distil = variant(TinyEncoders.distilBert.st)
    Seq(
      Target("tiny xlm-roberta config.json", xlmr, "config.json", JsonConfig, () => encode(xlmr, null)),
      Target("tiny distilbert config.json", distil, "config.json", JsonConfig, () => encode(distil, null)),
      Target("tiny TorchScript model.pt", graph, "model.pt", TorchScriptZip, () => encode(graph, null)),
      Target("tiny model.safetensors", tiny, "model.safetensors", Safetensors, tinyLoad),
      Target("tiny model.safetensors.index.json", sharded, "model.safetensors.index.json", JsonConfig,
        () => encode(sharded, null)),
      Target("tiny config.json", tiny, "config.json", JsonConfig, tinyLoad),
      Target("tiny sentence_bert_config.json", tiny, "sentence_bert_config.json", JsonConfig, tinyLoad),
      Target("tiny 1_Pooling/config.json", tiny, "1_Pooling/config.json", JsonConfig, tinyLoad),
      Target("tiny modules.json", tiny, "modules.json", JsonConfig, tinyLoad),
      Target("tiny adapter_config.json", tinyAdapter, "adapter_config.json", JsonConfig, tinyAdapterLoad),
      Target("tiny adapter_model.safetensors", tinyAdapter, "adapter_model.safetensors", Safetensors, tinyAdapterLoad),
      Target("MiniLM model.safetensors header", miniHeader, "model.safetensors", SafetensorsHeader,
        () => { EncoderPlan.resolve(miniHeader, null, cpu); () }),
      Target("MiniLM config.json", miniConfigs, "config.json", JsonConfig, miniPlan),
      Target("MiniLM sentence_bert_config.json", miniConfigs, "sentence_bert_config.json", JsonConfig, miniPlan),
      Target("MiniLM adapter_config.json", miniAdapter, "adapter_config.json", JsonConfig, miniAdapterLoad),
      Target("MiniLM adapter_model.safetensors", miniAdapter, "adapter_model.safetensors", Safetensors,
        miniAdapterLoad))
  }

  /** The header region of a large checkpoint, then a hole up to its real size: headers are checked, data is not read. */
  private def sparseHeaderCopy(src: Path, dst: Path): Unit = {
    val l = BadFiles.layout(src)
    BadFiles.truncate(src, dst, l.dataStart)
    Using.resource(new RandomAccessFile(dst.toFile, "rw"))(_.setLength(Files.size(src)))
  }

  // ---- mutations ---------------------------------------------------------------------------------------------------

  private val specialNumbers: Seq[JsonNode] = {
    val f = JsonNodeFactory.instance
    Seq(f.numberNode(0), f.numberNode(-1), f.numberNode(Int.MaxValue), f.numberNode(Int.MinValue),
      f.numberNode(Long.MaxValue), f.numberNode(1L << 40), f.numberNode(1e308), f.numberNode(-1e-300),
      f.numberNode(new java.math.BigInteger("9" * 400)), f.numberNode(0.5), f.numberNode(1e9.toInt))
  }

  private def swapValue(rnd: Random): JsonNode = {
    val f = JsonNodeFactory.instance
    rnd.nextInt(7) match {
      case 0 => f.nullNode()
      case 1 => f.textNode(Seq("", "F32", "abc", "\n\u0000", "../../etc/passwd", "x" * 3000)(rnd.nextInt(6)))
      case 2 => f.booleanNode(rnd.nextBoolean())
      case 3 => f.arrayNode().add(1).add(-2)
      case 4 => f.objectNode().put("k", 1)
      case _ => specialNumbers(rnd.nextInt(specialNumbers.size))
    }
  }

  /** Every object and array in a tree, to pick one to edit. */
  private def containers(n: JsonNode, out: mutable.Buffer[JsonNode]): Unit = if (n.isContainerNode) {
    out += n
    n.elements().asScala.foreach(containers(_, out))
  }

  /** A structural edit of a JSON tree: delete, swap a type, set a huge or negative number. */
  private def mutateTree(root: JsonNode, rnd: Random): String = {
    val all = mutable.Buffer[JsonNode]()
    containers(root, all)
    val target = all(rnd.nextInt(all.size))
    target match {
      case o: ObjectNode if o.size() > 0 =>
        val keys = o.fieldNames().asScala.toSeq
        val key = keys(rnd.nextInt(keys.size))
        if (rnd.nextInt(4) == 0) { o.remove(key); s"delete field $key" }
        else { val v = swapValue(rnd); o.set[JsonNode](key, v); s"set $key to ${short(v.toString)}" }
      case a: ArrayNode if a.size() > 0 =>
        val i = rnd.nextInt(a.size())
        rnd.nextInt(3) match {
          case 0 => a.remove(i); s"remove array element $i"
          case 1 => a.add(swapValue(rnd)); "append an array element"
          case _ => val v = swapValue(rnd); a.set(i, v); s"set array element $i to ${short(v.toString)}"
        }
      case o: ObjectNode => o.put("added", 1); "add a field to an empty object"
      case a: ArrayNode => a.add(1); "add an element to an empty array"
    }
  }

  /** Text-level edits a tree cannot express: duplicate keys, deep nesting, huge literals. */
  private def mutateText(text: String, rnd: Random): (String, String) = rnd.nextInt(4) match {
    case 0 =>
      val at = text.indexOf('{') + 1
      val key = "\"[a-z_]+\"".r.findAllIn(text).toSeq match {
        case Seq() => "\"k\""
        case ks => ks(rnd.nextInt(ks.size))
      }
      (text.substring(0, at) + s"$key: ${swapValue(rnd)}, " + text.substring(at), s"duplicate key $key")
    case 1 =>
      val depth = 100000
      (text.replaceFirst(":", ": " + ("[" * depth) + ("]" * depth) + ", \"nested\":"), s"nest $depth arrays")
    case 2 =>
      val m = "-?[0-9]+".r.findAllMatchIn(text).toSeq
      if (m.isEmpty) (text + "}", "append a brace")
      else {
        val hit = m(rnd.nextInt(m.size))
        val big = Seq("9" * 5000, "1e999999", "-" + "9" * 30, "0.0000000000000000000000001")(rnd.nextInt(4))
        (text.substring(0, hit.start) + big + text.substring(hit.end), s"replace number ${hit.matched} by ${short(big)}")
      }
    case _ =>
      val cut = rnd.nextInt(text.length + 1)
      (text.substring(0, cut), s"cut the text at $cut")
  }

  private def mutateBytes(bytes: Array[Byte], rnd: Random): (Array[Byte], String) = rnd.nextInt(6) match {
    case 0 =>
      val b = bytes.clone(); val flips = 1 + rnd.nextInt(8)
      for (_ <- 0 until flips) { val i = rnd.nextInt(b.length); b(i) = (b(i) ^ (1 << rnd.nextInt(8))).toByte }
      (b, s"flip $flips bits")
    case 1 =>
      val b = bytes.clone(); val i = rnd.nextInt(b.length)
      val v = Seq(0, 0xff, '"', '{', '}', '\n', '\\', 0x80, rnd.nextInt(256))(rnd.nextInt(9)).toByte
      b(i) = v; (b, s"overwrite byte $i with $v")
    case 2 => val n = rnd.nextInt(bytes.length); (bytes.take(n), s"truncate to $n bytes")
    case 3 =>
      val junk = new Array[Byte](1 + rnd.nextInt(4096)); rnd.nextBytes(junk)
      (bytes ++ junk, s"append ${junk.length} junk bytes")
    case 4 =>
      val i = rnd.nextInt(bytes.length); val n = 1 + rnd.nextInt(math.min(64, bytes.length - i))
      (bytes.take(i) ++ bytes.drop(i + n), s"delete $n bytes at $i")
    case _ =>
      val i = rnd.nextInt(bytes.length); val n = 1 + rnd.nextInt(math.min(64, bytes.length - i))
      (bytes.take(i + n) ++ bytes.slice(i, i + n) ++ bytes.drop(i + n), s"duplicate $n bytes at $i")
  }

  /** Safetensors: the length field, the header as JSON, or the bytes. */
  private def mutateSafetensors(bytes: Array[Byte], rnd: Random): (Array[Byte], String) = {
    val len = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong
    val headerEnd = (8 + len).toInt
    def withLength(v: Long) = {
      val b = bytes.clone()
      ByteBuffer.wrap(b, 0, 8).order(ByteOrder.LITTLE_ENDIAN).putLong(v)
      b
    }
    rnd.nextInt(4) match {
      case 0 =>
        val v = Seq(0L, 1L, len - 1, len + 1, len + rnd.nextInt(1 << 20), bytes.length.toLong, -1L, Long.MinValue,
          1L << 32, (100L << 20) + 1)(rnd.nextInt(10))
        (withLength(v), s"set the header length to $v")
      case 1 =>
        val header = json.readTree(new String(bytes, 8, len.toInt, UTF_8))
        val what = mutateTree(header, rnd)
        (rewriteHeader(json.writeValueAsBytes(header), bytes, headerEnd), s"header: $what")
      case 2 =>
        val (text, what) = mutateText(new String(bytes, 8, len.toInt, UTF_8), rnd)
        (rewriteHeader(text.getBytes(UTF_8), bytes, headerEnd), s"header text: $what")
      case _ =>
        // Bytes within the header region, where a flip is likeliest to matter.
        val (head, what) = mutateBytes(bytes.take(headerEnd), rnd)
        (head ++ bytes.drop(headerEnd), s"header bytes: $what")
    }
  }

  private def rewriteHeader(header: Array[Byte], bytes: Array[Byte], headerEnd: Int): Array[Byte] =
    ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length.toLong).array() ++ header ++
      bytes.drop(headerEnd)

  private def mutate(t: Target, rnd: Random): String = t.kind match {
    case JsonConfig =>
      val text = new String(t.original, UTF_8)
      val (mutant, what) = rnd.nextInt(3) match {
        case 0 => val tree = json.readTree(text); val w = mutateTree(tree, rnd); (tree.toString.getBytes(UTF_8), w)
        case 1 => val (s, w) = mutateText(text, rnd); (s.getBytes(UTF_8), w)
        case _ => mutateBytes(t.original, rnd)
      }
      Files.write(t.path, mutant)
      what
    case Safetensors =>
      val (mutant, what) = if (rnd.nextInt(5) == 0) mutateBytes(t.original, rnd) else mutateSafetensors(t.original, rnd)
      Files.write(t.path, mutant)
      what
    case TorchScriptZip =>
      if (rnd.nextBoolean()) {
        val (mutant, what) = mutateBytes(t.original, rnd)
        Files.write(t.path, mutant)
        what
      } else {
        // A valid zip around a damaged record: what only libtorch itself can reject.
        val records = Using.resource(new java.util.zip.ZipFile(t.path.toFile))(_.entries().asScala.map(_.getName).toSeq)
        val record = records(rnd.nextInt(records.size))
        val source = scratch.file("graph", ".pt")
        try {
          Files.write(source, t.original)
          val bytes = Using.resource(new java.util.zip.ZipFile(source.toFile))(z => z.getInputStream(z.getEntry(record))
            .readAllBytes())
          val (mutant, what) = if (bytes.isEmpty) (Array[Byte](1), "fill") else mutateBytes(bytes, rnd)
          BadFiles.replaceZipRecord(source, t.path, record, mutant)
          s"record $record: $what"
        } finally Files.delete(source)
      }
    case SafetensorsHeader =>
      // Mutate the header region only, then restore the file's length with a hole: the data is never read.
      val (mutant, what) = mutateSafetensors(t.original, rnd)
      Files.write(t.path, mutant)
      if (rnd.nextInt(4) != 0) { t.restoreLength(); what } else s"$what, data section cut off"
  }

  private def short(s: String): String = if (s.length > 60) s.take(60) + s"...(${s.length} chars)" else s

  // ---- the run -----------------------------------------------------------------------------------------------------

  test(s"$Iterations seeded mutants of real model and adapter files: loaded, or one clear error") {
    val rnd = new Random(Seed)
    info(s"seed $Seed, $Iterations iterations, per-case timeout ${CaseTimeoutSeconds}s")
    targets.foreach(_.original)
    // Every target must load untouched, or a mutant's error could be the fixture's.
    targets.foreach(_.load())
    val breadcrumb = Files.createDirectories(Path.of("target", "model-fuzz"))
    val pool = Executors.newSingleThreadExecutor()
    val tally = mutable.TreeMap[String, Int]().withDefaultValue(0)
    val reasons = mutable.Map[String, Int]().withDefaultValue(0)
    val failures = mutable.Buffer[String]()
    val start = System.nanoTime()
    try {
      for (i <- 0 until Iterations if failures.size < 5) {
        val t = targets(rnd.nextInt(targets.size))
        targets.foreach(_.restore())
        val what = mutate(t, rnd)
        if (replay.exists(_ != i)) {} else {
        replay.foreach { _ =>
          // Next to the breadcrumb, not in the suite's scratch space: the mutant must outlive the suite.
          val keep = Files.createDirectories(breadcrumb.resolve(s"replay-$i"))
          Files.copy(t.path, keep.resolve(t.path.getFileName))
          info(s"replaying iteration $i, ${t.name}, $what: the mutant is in $keep")
        }
        // A crash of the JVM in native code leaves no test report: the mutant being loaded is kept aside first.
        Files.writeString(breadcrumb.resolve("current.txt"), s"seed $Seed, iteration $i, ${t.name}, $what\n")
        Files.copy(t.path, breadcrumb.resolve(t.path.getFileName), StandardCopyOption.REPLACE_EXISTING)
        val future = pool.submit(new Callable[Unit] { def call(): Unit = t.load() })
        val outcome: Either[Throwable, Unit] =
          try Right(future.get(CaseTimeoutSeconds, TimeUnit.SECONDS))
          catch {
            case e: java.util.concurrent.ExecutionException => Left(e.getCause)
            case e: TimeoutException => future.cancel(true); Left(e)
          }
        outcome match {
          case Right(_) => tally(s"${t.name}: loaded") += 1
          case Left(e: ModelFormatException) if clear(e, t) =>
            tally(s"${t.name}: ModelFormatException") += 1
            reasons(reason(e)) += 1
          case Left(e) =>
            failures += s"iteration $i, ${t.name}, $what: ${e.getClass.getName}: ${e.getMessage}"
            if (!e.isInstanceOf[TimeoutException]) e.printStackTrace()
        }
        }
      }
    } finally {
      pool.shutdownNow()
      targets.foreach(_.restore())
    }
    val seconds = (System.nanoTime() - start) / 1e9
    info(f"$Iterations%d mutants in $seconds%.1f s")
    tally.foreach { case (k, n) => info(s"$k: $n") }
    reasons.toSeq.sortBy(-_._2).take(20).foreach { case (r, n) => info(s"rejected $n times: $r") }
    assert(failures.isEmpty, failures.mkString("\n"))
  }

  /** The kind of rejection: the message without its file, quoted values and numbers. */
  private def reason(e: ModelFormatException): String = {
    val m = e.getMessage.stripPrefix(e.file().toString).stripPrefix(": ")
    m.replaceAll("\"[^\"]*\"", "\"_\"").replaceAll("-?[0-9]+", "#").replaceAll("\\[[^\\]]*\\]", "[_]")
      .take(70)
  }

  /** One line, naming a file of the mutated directory (the mutated file, or the one it contradicts). */
  private def clear(e: ModelFormatException, t: Target): Boolean = {
    val m = e.getMessage
    val ok = !m.contains("\n") && !m.contains("\r") && (m.contains(t.dir.toString) ||
      m.contains(TestModels.miniLm.dir.toString) || m.contains(TinyPromptBert.st.toString))
    if (!ok) info(s"unclear message for ${t.name}: $m")
    ok
  }
}

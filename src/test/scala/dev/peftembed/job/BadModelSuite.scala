package dev.peftembed.job

import com.fasterxml.jackson.databind.node.{ArrayNode, ObjectNode}
import dev.peftembed.cli.Main
import dev.peftembed.embed.{EncoderOptions, EncoderPlan, SentenceEncoder}
import dev.peftembed.model.ModelFormatException
import dev.peftembed.testkit.{BadFiles, Console, LocalSparkSession, ModelVariants, ScratchSpace, TestModels,
  TinyPromptBert}
import java.nio.file.{Files, Path}
import java.util.Random
import org.apache.spark.scheduler.{SparkListener, SparkListenerJobStart}
import org.scalatest.funsuite.AnyFunSuite
import scala.util.Using

/**
 * Every bad model or adapter fails on the driver, before any Spark job, with one line naming the file and what was
 * expected; the `embed` command exits 2 and leaves no output directory. One table, each case run through the plan a
 * driver builds and through the command line.
 */
class BadModelSuite extends AnyFunSuite with LocalSparkSession with ScratchSpace {
  private val model = TestModels.miniLm
  private lazy val adapter: Path = TestModels.promptAdapter(model, 8, seed = 8)._1
  private val weights = "model.safetensors"

  /** A bad directory pair and what its one line must say. */
  private final case class Case(name: String, file: String, says: Seq[String], build: () => (Path, Path))

  private def modelWeights(edit: (Path, Path) => Unit): () => (Path, Path) =
    () => (BadFiles.variantWith(model.dir, weights)(edit), null)

  private def header(edit: ObjectNode => Unit): () => (Path, Path) =
    modelWeights((src, dst) => BadFiles.editHeader(src, dst)(edit))

  private def tensor(h: ObjectNode, name: String): ObjectNode = h.get(name).asInstanceOf[ObjectNode]

  private def offsets(h: ObjectNode, name: String): ArrayNode = tensor(h, name).get("data_offsets").asInstanceOf[ArrayNode]

  private def textEdit(dir: Path, file: String, from: String, to: String): Path = {
    val copy = ModelVariants.copyOf(dir)
    val f = copy.resolve(file)
    val text = Files.readString(f)
    val edited = text.replaceAll(from, to)
    require(edited != text, s"$from not found in $file")
    Files.writeString(f, edited)
    copy
  }

  private def config(from: String, to: String): () => (Path, Path) =
    () => (textEdit(model.dir, "config.json", from, to), null)

  private def adapterConfig(from: String, to: String): () => (Path, Path) =
    () => (model.dir, textEdit(adapter, "adapter_config.json", from, to))

  private def graph(write: (Path, Path) => Unit): () => (Path, Path) =
    () => (BadFiles.variantWith(TinyPromptBert.promptGraph, "model.pt")(write), null)

  private val cases: Seq[Case] = Seq(
    Case("a missing model directory", "/no/such/model", Seq("model directory not found"),
      () => (Path.of("/no/such/model"), null)),
    Case("a missing weights file", "model-variant", Seq("no model.safetensors or model.safetensors.index.json found"),
      () => { val d = ModelVariants.copyOf(model.dir); Files.delete(d.resolve(weights)); (d, null) }),
    Case("a missing tokenizer.json", "tokenizer.json", Seq("file not found"),
      () => { val d = ModelVariants.copyOf(model.dir); Files.delete(d.resolve("tokenizer.json")); (d, null) }),
    Case("a truncated safetensors file (half of it)", weights, Seq("out of range", "data section has"),
      modelWeights((s, d) => BadFiles.truncate(s, d, Files.size(s) / 2))),
    Case("a truncated safetensors file (inside its header)", weights, Seq("header length", "out of range"),
      modelWeights((s, d) => BadFiles.truncate(s, d, 100))),
    Case("a safetensors file of 5 bytes", weights, Seq("truncated safetensors file: 5 bytes"),
      modelWeights((s, d) => BadFiles.truncate(s, d, 5))),
    Case("a header length larger than the file", weights, Seq("header length", "out of range"),
      modelWeights((s, d) => BadFiles.headerLength(s, d, Files.size(s)))),
    Case("an absurd header length (2^62)", weights, Seq("header length 4611686018427387904 is out of range"),
      modelWeights((s, d) => BadFiles.headerLength(s, d, 1L << 62))),
    Case("a negative header length", weights, Seq("header length 18446744073709551615 is out of range"),
      modelWeights((s, d) => BadFiles.headerLength(s, d, -1L))),
    Case("offsets out of range", weights, Seq("embeddings.word_embeddings.weight", "out of range"),
      header(h => offsets(h, "embeddings.word_embeddings.weight").set(1, Long.MaxValue / 2))),
    Case("overlapping offsets", weights, Seq("overlap in the data section"), header { h =>
      val a = offsets(h, "embeddings.LayerNorm.bias")
      val b = offsets(h, "embeddings.LayerNorm.weight")
      b.set(0, a.get(0).asLong); b.set(1, a.get(1).asLong)
    }),
    Case("an unknown dtype", weights, Seq("unknown dtype \"F33\""),
      header(h => tensor(h, "embeddings.LayerNorm.bias").put("dtype", "F33"))),
    Case("an integer dtype where weights are expected", weights, Seq("has dtype I32", "expected F32"),
      header(h => tensor(h, "embeddings.LayerNorm.bias").put("dtype", "I32"))),
    Case("a tensor missing from the weights", "model-variant", Seq("missing tensor \"encoder.layer.5.output.dense.bias\""),
      header(h => h.remove("encoder.layer.5.output.dense.bias"))),
    Case("a tensor shape that disagrees with config.json", weights,
      Seq("encoder.layer.0.intermediate.dense.weight", "[1536, 384]", "[1024, 384]"),
      config("\"intermediate_size\"\\s*:\\s*1536", "\"intermediate_size\": 1024")),
    Case("config.json missing a field", "config.json", Seq("\"hidden_size\"", "expected an integer"),
      config("\"hidden_size\"\\s*:\\s*384\\s*,", "")),
    Case("config.json with a hidden_size beyond int (1e12)", "config.json", Seq("\"hidden_size\"", "expected an integer"),
      config("\"hidden_size\"\\s*:\\s*384", "\"hidden_size\": 1000000000000")),
    Case("config.json with vocab_size 2^31-1: checked against the header, never allocated", weights,
      Seq("embeddings.word_embeddings.weight", "[2147483647, 384]"),
      config("\"vocab_size\"\\s*:\\s*30522", "\"vocab_size\": 2147483647")),
    Case("config.json with 2^31-1 layers: fails at the first missing layer", "model-variant",
      Seq("missing tensor \"encoder.layer.6.attention.self.query.weight\""),
      config("\"num_hidden_layers\"\\s*:\\s*6", "\"num_hidden_layers\": 2147483647")),
    Case("config.json with a negative num_attention_heads", "config.json", Seq("num_attention_heads", "must be positive"),
      config("\"num_attention_heads\"\\s*:\\s*12", "\"num_attention_heads\": -12")),
    Case("a module path leaving the model directory", "modules.json",
      Seq("module path \"../../etc\" is outside the model directory"),
      () => (textEdit(model.dir, "modules.json", "\"1_Pooling\"", "\"../../etc\""), null)),
    Case("a module path with a NUL character", "modules.json", Seq("is not a valid path"),
      () => (textEdit(model.dir, "modules.json", "\"1_Pooling\"", "\"1_Pool\\\\u0000ing\""), null)),
    Case("only pytorch_model.bin: refused, with how to convert", "pytorch_model.bin",
      Seq("never loaded", "safe_serialization=True"), () => {
        val d = ModelVariants.copyOf(model.dir); Files.delete(d.resolve(weights))
        Files.write(d.resolve("pytorch_model.bin"), BadFiles.pickle); (d, null)
      }),
    Case("a missing adapter directory", "/no/such/adapter", Seq("adapter directory not found"),
      () => (model.dir, Path.of("/no/such/adapter"))),
    Case("an adapter whose token_dim disagrees", "adapter_config.json",
      Seq("token_dim 768 disagrees with the model's hidden_size 384"),
      adapterConfig("\"token_dim\"\\s*:\\s*384", "\"token_dim\": 768")),
    Case("an adapter without adapter_config.json", "adapter_config.json", Seq("file not found"), () => {
      val a = ModelVariants.copyOf(adapter); Files.delete(a.resolve("adapter_config.json")); (model.dir, a)
    }),
    Case("an adapter without peft_type", "adapter_config.json", Seq("missing field \"peft_type\""),
      adapterConfig("\"peft_type\"\\s*:\\s*\"PROMPT_TUNING\"\\s*,", "")),
    Case("an adapter with num_virtual_tokens 2^31-1", "adapter_config.json",
      Seq("num_virtual_tokens 2147483647 leaves no room"),
      adapterConfig("\"num_virtual_tokens\"\\s*:\\s*8", "\"num_virtual_tokens\": 2147483647")),
    Case("an adapter table that disagrees with num_virtual_tokens", "adapter_model.safetensors", Seq("[8, 384]", "[9, 384]"),
      adapterConfig("\"num_virtual_tokens\"\\s*:\\s*8", "\"num_virtual_tokens\": 9")),
    Case("a truncated adapter_model.safetensors", "adapter_model.safetensors", Seq("out of range"),
      () => (model.dir, BadFiles.variantWith(adapter, "adapter_model.safetensors")((s, d) =>
        BadFiles.truncate(s, d, Files.size(s) - 100)))),
    Case("only adapter_model.bin", "adapter_model.bin", Seq("never loaded"), () => {
      val a = ModelVariants.copyOf(adapter); Files.delete(a.resolve("adapter_model.safetensors"))
      Files.write(a.resolve("adapter_model.bin"), BadFiles.pickle); (model.dir, a)
    }),
    Case("a truncated TorchScript file", "model.pt", Seq("not a readable zip archive", "torch.jit.save"),
      graph((s, d) => BadFiles.truncate(s, d, Files.size(s) / 2))),
    Case("a TorchScript file of random bytes", "model.pt", Seq("not a readable zip archive", "torch.jit.save"),
      graph { (_, d) => val b = new Array[Byte](4096); new Random(7).nextBytes(b); b(0) = 'x'; Files.write(d, b) }),
    Case("a legacy torch.save pickle as model.pt", "model.pt", Seq("is a pickle", "never loaded"),
      graph((_, d) => Files.write(d, BadFiles.pickle))),
    Case("a TorchScript pickle whose memo index makes libtorch allocate billions of entries", "model.pt",
      Seq("record model/data.pkl is not a well-formed pickle", "memo index 2147483647 exceeds"),
      graph((s, d) => BadFiles.replaceZipRecord(s, d, "/data.pkl",
        Array[Byte](0x80.toByte, 2, 'N'.toByte, 'r'.toByte, 0xff.toByte, 0xff.toByte, 0xff.toByte, 0x7f, '.'.toByte)))),
    Case("a TorchScript tensor record shorter than its pickle says (crashed libtorch in a copy)", "model.pt",
      Seq("tensor storage model/data/19 holds 0 bytes", "model/data.pkl reads"),
      graph((s, d) => BadFiles.replaceZipRecord(s, d, "model/data/19", Array.emptyByteArray))),
    Case("a TorchScript archive whose data.pkl is garbage", "model.pt",
      Seq("record model/data.pkl is not a well-formed pickle", "unknown opcode 0x78"),
      graph((s, d) => BadFiles.replaceZipRecord(s, d, "/data.pkl", Array.fill[Byte](200)('x'.toByte)))),
    Case("a torch.save zip archive (a state_dict) as model.pt", "model.pt", Seq("holds no TorchScript code"),
      graph((_, d) => BadFiles.zipOf(d, "archive/data.pkl" -> BadFiles.pickle, "archive/data/0" -> new Array[Byte](64),
        "archive/version" -> "3\n".getBytes)))
  )

  private def assertOneLine(msg: String, c: Case): Unit = {
    assert(!msg.contains("\n") && !msg.contains("\r"), s"${c.name}: not one line: $msg")
    assert(msg.contains(c.file), s"${c.name}: '$msg' does not name ${c.file}")
    c.says.foreach(s => assert(msg.contains(s), s"${c.name}: '$msg' does not say '$s'"))
  }

  /**
   * The embed job's own jobs (its count and embed groups) started from the test's thread while it runs one case;
   * reading the input may run a schema job, which is not embedding. The command runs on the session the whole suite run
   * shares, where another suite's thread may still start jobs; the case's mark, a thread-local property the
   * command's own jobs inherit, tells them apart.
   */
  private val CaseProperty = "peft-embed.test.bad-model-case"
  private val EmbedGroups = Set(JobGroup.COUNT.id(), JobGroup.EMBED.id())
  private val jobsByCase = new java.util.concurrent.ConcurrentHashMap[String, Integer]()
  private lazy val listener: Unit = spark.sparkContext.addSparkListener(new SparkListener {
    override def onJobStart(e: SparkListenerJobStart): Unit =
      Option(e.properties).filter(p => p.getProperty(CaseProperty) != null && (EmbedGroups(p.getProperty(
        "spark.jobGroup.id")) || p.getProperty(CaseProperty).endsWith("/marker")))
        .foreach(p => jobsByCase.merge(p.getProperty(CaseProperty), 1, (a: Integer, b: Integer) => a + b))
  })

  private def jobsOf(caseName: String)(run: => Unit): Int = {
    listener
    val sc = spark.sparkContext
    sc.setLocalProperty(CaseProperty, caseName)
    try run finally sc.setLocalProperty(CaseProperty, null)
    // The marker job, started after the command, is seen once the listener bus has delivered everything before it.
    sc.setLocalProperty(CaseProperty, caseName + "/marker")
    try spark.range(1).count() finally sc.setLocalProperty(CaseProperty, null)
    val deadline = System.currentTimeMillis() + 10000
    while (!jobsByCase.containsKey(caseName + "/marker") && System.currentTimeMillis() < deadline) {
      Thread.sleep(20)
    }
    jobsByCase.getOrDefault(caseName, 0)
  }

  private lazy val input: Path = {
    val f = scratch.dir("bad-model-input").resolve("in.jsonl")
    Files.writeString(f, "{\"id\": 1, \"text\": \"a sentence\"}\n{\"id\": 2, \"text\": \"another one\"}\n")
  }

  for (c <- cases) {
    test(c.name) {
      val (modelDir, adapterDir) = c.build()
      try {
        val driver = intercept[ModelFormatException](EncoderPlan.resolve(modelDir, adapterDir, EncoderOptions.defaults()))
        assertOneLine(driver.getMessage, c)

        val out = scratch.dir("bad-model-out").resolve("embeddings")
        val args = Seq("embed", "--input", input.toString, "--model", modelDir.toString, "--output", out.toString) ++
          Option(adapterDir).toSeq.flatMap(a => Seq("--adapter", a.toString))
        var result: (Int, String, String) = null
        val jobs = jobsOf(c.name) { result = Console.capture(Main.run(args: _*)) }
        val (code, _, err) = result
        assert(code == 2, s"${c.name}: exit code $code, stderr: $err")
        val errors = err.linesIterator.filter(_.startsWith("peft-embed:")).toSeq
        assert(errors == Seq(s"peft-embed: error: ${driver.getMessage}"), s"${c.name}: $err")
        assert(!Files.exists(out), s"${c.name}: left $out behind")
        assert(jobs == 0, s"${c.name}: $jobs Spark job(s) started before the error")
        info(s"exit $code, no output: ${driver.getMessage}")
      } finally {
        if (modelDir.toString.contains("model-variant")) BadFiles.delete(modelDir)
        if (adapterDir != null && adapterDir.toString.contains("model-variant")) BadFiles.delete(adapterDir)
      }
    }
  }

  test("a TorchScript archive whose code does not compile: one line naming model.pt when the graph loads") {
    // Well-formed zip and pickles around TorchScript code that does not compile: only libtorch can tell, so this
    // fails where the graph is loaded (the first task on an executor; here in-process), still as one line.
    val dir = BadFiles.variantWith(TinyPromptBert.promptGraph, "model.pt")((s, d) =>
      BadFiles.replaceZipRecord(s, d, "model/code/__torch__.py", "def broken(:\n".getBytes))
    try {
      EncoderPlan.resolve(dir, null, EncoderOptions.defaults())
      val e = intercept[ModelFormatException] {
        Using.resource(SentenceEncoder.load(dir, null, EncoderOptions.defaults().withDevice("cpu", "float32")))(_ => ())
      }
      assert(!e.getMessage.contains("\n"), e.getMessage)
      assert(e.getMessage.contains(dir.resolve("model.pt").toString) && e.getMessage.contains("torch.jit.save"),
        e.getMessage)
    } finally BadFiles.delete(dir)
  }
}

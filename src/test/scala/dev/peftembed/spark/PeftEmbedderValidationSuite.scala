package dev.peftembed.spark

import dev.peftembed.cli.Main
import dev.peftembed.model.ModelFormatException
import dev.peftembed.onnx.DefaultModel
import dev.peftembed.testkit.{JobGroups, LocalSparkSession, ScratchSpace}
import java.io.{ByteArrayOutputStream, PrintStream}
import java.nio.charset.StandardCharsets.UTF_8
import java.nio.file.{Files, Path}
import org.apache.spark.ml.linalg.SQLDataTypes
import org.apache.spark.sql.{DataFrame, Row}
import org.apache.spark.sql.types.{ArrayType, DataTypes, StructType}
import org.scalatest.funsuite.AnyFunSuite
import scala.jdk.CollectionConverters._

/** Schema checks, parameter validation and failing fast on the driver; no model is loaded here. */
class PeftEmbedderValidationSuite extends AnyFunSuite with LocalSparkSession with ScratchSpace {

  private val schema = new StructType()
    .add("id", DataTypes.LongType)
    .add("text", DataTypes.StringType)
    .add("count", DataTypes.IntegerType)

  private def frame: DataFrame =
    spark.createDataFrame(List(Row(1L, "a text", 3), Row(2L, null, 4)).asJava, schema).repartition(2)

  private def schemaError(stage: PeftEmbedder): String =
    intercept[IllegalArgumentException](stage.transformSchema(schema)).getMessage

  test("transformSchema appends the embedding, token-count and truncation columns") {
    val out = new PeftEmbedder().setNumTokensCol("n").setTruncatedCol("cut").transformSchema(schema)
    assert(out.fieldNames.toSeq == Seq("id", "text", "count", "embedding", "n", "cut"))
    assert(out("embedding").dataType == ArrayType(DataTypes.FloatType, containsNull = false))
    assert(out("n").dataType == DataTypes.IntegerType)
    assert(out("cut").dataType == DataTypes.BooleanType)
    assert(out.fields.drop(3).forall(_.nullable), "a null text has no embedding")
    val vector = new PeftEmbedder().setOutputType("vector").setOutputCol("v").transformSchema(schema)
    assert(vector("v").dataType == SQLDataTypes.VectorType)
  }

  test("the input column must exist and be a string, and the message says what was found") {
    assert(schemaError(new PeftEmbedder().setInputCol("body"))
      == "input column \"body\" does not exist; the columns are [id, text, count]")
    assert(schemaError(new PeftEmbedder().setInputCol("count"))
      == "input column \"count\" must be a string, but it is int")
    assert(schemaError(new PeftEmbedder().setInputCol("id")).endsWith("but it is bigint"))
  }

  test("output columns must be new and distinct") {
    assert(schemaError(new PeftEmbedder().setOutputCol("count"))
      == "output column \"count\" already exists; choose a new name")
    assert(schemaError(new PeftEmbedder().setNumTokensCol("embedding"))
      == "num tokens column \"embedding\" already exists; choose a new name")
    assert(schemaError(new PeftEmbedder().setTruncatedCol("text")).startsWith("truncated column \"text\""))
  }

  test("parameters are validated when set") {
    val stage = new PeftEmbedder()
    intercept[IllegalArgumentException](stage.setBatchSize(0))
    intercept[IllegalArgumentException](stage.setMaxBatchTokens(-1))
    intercept[IllegalArgumentException](stage.setMaxSeqLength(1))
    intercept[IllegalArgumentException](stage.setTruncateDim(-3))
    intercept[IllegalArgumentException](stage.setDevice("tpu"))
    intercept[IllegalArgumentException](stage.setDtype("bfloat16"))
    intercept[IllegalArgumentException](stage.setOutputType("list"))
    intercept[IllegalArgumentException](stage.setVirtualTokens("maybe"))
    intercept[IllegalArgumentException](stage.setNormalize("yes"))
    intercept[IllegalArgumentException](stage.setOutputCol(""))
    assert(stage.setMaxSeqLength(0).getMaxSeqLength == 0)
    assert(stage.setMaxSeqLength(2).getMaxSeqLength == 2)
  }

  test("defaults, as explainParams shows them") {
    val stage = new PeftEmbedder()
    assert(stage.getInputCol == "text" && stage.getOutputCol == "embedding")
    assert(stage.getModelPath == "" && stage.getAdapterPath == "" && stage.getBaseModelPath == "")
    assert(stage.getAdapters.isEmpty && stage.getAdapterCol == "adapter")
    assert(stage.getBatchSize == 64 && stage.getMaxBatchTokens == 16384 && stage.getMaxSeqLength == 0)
    assert(stage.getDevice == "auto" && stage.getDtype == "float32" && stage.getOutputType == "array")
    assert(stage.getVirtualTokens == "include" && stage.getNormalize == "model" && stage.getTruncateDim == 0)
    assert(stage.getPrompt == null && stage.getPromptName == "")
    assert(stage.getNumTokensCol == "" && stage.getTruncatedCol == "" && stage.getErrorCol == "")
    assert(stage.params.length == 21)
    assert(stage.explainParams().contains("batchSize: the most rows per forward pass (>= 1) (default: 64)"))
  }

  test("contradicting options fail on the driver") {
    val cpuHalf = new PeftEmbedder().setDevice("cpu").setDtype("float16")
    assert(intercept[IllegalArgumentException](cpuHalf.transform(frame)).getMessage.contains("float16 needs a GPU"))
    val bothPrompts = new PeftEmbedder().setPrompt("query: ").setPromptName("query")
    assert(intercept[IllegalArgumentException](bothPrompts.transform(frame)).getMessage.contains("not both"))
    val unknownPrompt = new PeftEmbedder().setModelPath(DefaultModel.resolve().toString).setPromptName("query")
    assert(intercept[IllegalArgumentException](unknownPrompt.transform(frame)).getMessage
      .contains("prompt name \"query\" is not defined"))
    val tooWide = new PeftEmbedder().setModelPath(DefaultModel.resolve().toString).setTruncateDim(1000)
    assert(intercept[IllegalArgumentException](tooWide.transform(frame)).getMessage
      .contains("truncate dim 1000 exceeds the model's 384 dimensions"))
  }

  /** What `peft-embed encode` prints on stderr for these arguments, without its "peft-embed: error: " prefix. */
  private def encodeCommandError(args: String*): String = {
    val input = scratch.file("encode-input", ".jsonl")
    Files.writeString(input, "{\"id\":1,\"text\":\"a\"}\n", UTF_8)
    val captured = new ByteArrayOutputStream()
    val saved = System.err
    System.setErr(new PrintStream(captured, true, UTF_8))
    val code =
      try Main.run((Seq("encode", "--input", input.toString, "--output", s"$input.out") ++ args): _*)
      finally {
        System.setErr(saved)
        Files.deleteIfExists(input)
        Files.deleteIfExists(Path.of(s"$input.out"))
      }
    assert(code == 2)
    captured.toString(UTF_8).trim.stripPrefix("peft-embed: error: ")
  }

  /** Runs `stage.transform` in its own job group and proves that no job of that group started. */
  private def failsBeforeAnyJob(stage: PeftEmbedder): ModelFormatException = {
    val sc = spark.sparkContext
    val jobs = new JobGroups
    sc.addSparkListener(jobs)
    try {
      sc.setJobGroup("fail-fast", "transform with a bad model")
      val e = try intercept[ModelFormatException](stage.transform(frame)) finally sc.clearJobGroup()
      // Listener events are asynchronous: once a later job of another group is seen, any job of ours would be too.
      sc.setJobGroup("marker", "marker")
      try spark.range(1).count() finally sc.clearJobGroup()
      jobs.awaitGroup("marker")
      assert(!jobs.seen("fail-fast"), "transform() started a Spark job before failing")
      e
    } finally sc.removeSparkListener(jobs)
  }

  test("a bad model path fails transform() on the driver, before any job, with the encode command's message") {
    val parent = scratch.dir("no-model")
    val missing = parent.resolve("missing-model").toString
    try {
      val e = failsBeforeAnyJob(new PeftEmbedder().setModelPath(missing))
      assert(!e.getMessage.contains("\n"), "one line")
      assert(e.getMessage.startsWith(s"$missing: model directory not found"))
      assert(e.getMessage == encodeCommandError("--model", missing))
    } finally Files.delete(parent)
  }

  test("a bad adapter fails transform() on the driver, before any job, with the encode command's message") {
    val adapter = scratch.dir("bad-adapter")
    val config = adapter.resolve("adapter_config.json")
    Files.writeString(config, "{\"peft_type\": \"LORA\", \"use_dora\": true}", UTF_8)
    val model = DefaultModel.resolve().toString
    try {
      val e = failsBeforeAnyJob(new PeftEmbedder().setModelPath(model).setAdapterPath(adapter.toString))
      assert(!e.getMessage.contains("\n"), "one line")
      assert(e.getMessage.startsWith(s"$config: DoRA (use_dora) is not supported"), e.getMessage)
      assert(e.getMessage == encodeCommandError("--model", model, "--adapter", adapter.toString))
    } finally {
      Files.delete(config)
      Files.delete(adapter)
    }
  }
}

package dev.peftembed.testkit

import dev.peftembed.model.{BertConfig, Checkpoint}
import dev.peftembed.onnx.{BertOnnxImporter, DefaultModel, ImportOptions}
import dev.peftembed.peft.PromptAdapterWriter
import dev.peftembed.runtime.CacheHome
import java.nio.file.{Files, Path, StandardCopyOption}
import java.util.Random
import scala.util.Using

/**
 * The real models the tests run: ONNX exports from Maven artifacts on the test classpath, and the
 * sentence-transformers directories imported from them. Everything is cached under the peft-embed home, so a test
 * run pays the extraction once.
 */
object TestModels {
  /** A model as both sides of a parity test see it: the original graph, and our imported directory. */
  final case class RealModel(name: String, onnx: Path, tokenizer: Path, dir: Path) {
    lazy val config: BertConfig = BertConfig.read(dir.resolve("config.json"))
  }

  private lazy val cache: Path = Files.createDirectories(CacheHome.get().resolve("test-cache"))

  /** all-MiniLM-L6-v2: mean pooling, normalized; the project's default model. */
  lazy val miniLm: RealModel =
    RealModel("all-MiniLM-L6-v2", resource("all-minilm-l6-v2.onnx"), resource("all-minilm-l6-v2-tokenizer.json"),
      DefaultModel.resolve())

  /** bge-small-en-v1.5: CLS pooling, normalized. */
  lazy val bgeSmall: RealModel = {
    val onnx = resource("bge-small-en-v1.5.onnx")
    val tokenizer = resource("bge-small-en-v1.5-tokenizer.json")
    val dir = cache.resolve("bge-small-en-v1.5")
    if (!Files.exists(dir.resolve("modules.json"))) {
      BertOnnxImporter.importModel(onnx, tokenizer, new ImportOptions("cls", true, 512, null), dir)
    }
    RealModel("bge-small-en-v1.5", onnx, tokenizer, dir)
  }

  /** Copies a classpath resource into the cache once. */
  def resource(name: String): Path = synchronized {
    val target = cache.resolve(name)
    if (!Files.exists(target)) {
      val in = getClass.getClassLoader.getResourceAsStream(name)
      require(in != null, s"$name is not on the test classpath")
      val tmp = Files.createTempFile(cache, name, ".part")
      Using.resource(in)(Files.copy(_, tmp, StandardCopyOption.REPLACE_EXISTING))
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE)
    }
    target
  }

  /** The word-embedding table of a model, [V, H] row-major. */
  def wordTable(model: RealModel): Array[Float] = {
    val c = model.config
    Checkpoint.open(model.dir).read("embeddings.word_embeddings.weight", c.vocabSize.toLong, c.hiddenSize.toLong).data
  }

  /**
   * A prompt-tuning adapter as PEFT's "TEXT" initialisation would start it (rows of the word table of random
   * tokens), moved off the table by seeded noise so that no row equals a real token.
   */
  def promptAdapter(model: RealModel, m: Int, seed: Long): (Path, Array[Float]) = {
    val dir = cache.resolve(s"${model.name}-prompt-m$m-s$seed")
    val c = model.config
    val table = wordTable(model)
    val rnd = new Random(seed)
    val rows = new Array[Float](m * c.hiddenSize)
    for (r <- 0 until m) {
      val token = 1000 + rnd.nextInt(c.vocabSize - 1000)
      for (j <- 0 until c.hiddenSize) {
        rows(r * c.hiddenSize + j) = table(token * c.hiddenSize + j) + (rnd.nextGaussian() * 0.02).toFloat
      }
    }
    if (!Files.exists(dir)) {
      // Written aside and renamed, so a concurrent test JVM never reads a half-written adapter.
      val tmp = Files.createTempDirectory(cache, dir.getFileName.toString)
      PromptAdapterWriter.write(tmp, rows, m, s"sentence-transformers/${model.name}", c)
      try Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE)
      catch { case _: java.nio.file.FileAlreadyExistsException | _: java.nio.file.DirectoryNotEmptyException => }
    }
    (dir, rows)
  }
}

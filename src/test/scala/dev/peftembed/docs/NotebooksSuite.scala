package dev.peftembed.docs

import com.fasterxml.jackson.databind.ObjectMapper
import dev.peftembed.testkit.ScratchSpace
import java.nio.charset.StandardCharsets.UTF_8
import java.nio.file.{Files, Path}
import java.util.concurrent.TimeUnit
import org.scalatest.Tag
import org.scalatest.funsuite.AnyFunSuite
import scala.jdk.CollectionConverters._

/** Tests that execute the notebooks; the POM runs them in integration-test, after package, and only there. */
object NotebookTest extends Tag("dev.peftembed.docs.NotebookTest")

/**
 * Both notebooks execute headless, as a user's `jupyter nbconvert --to notebook --execute` runs them: a failing cell
 * fails the test. They drive `scripts/peft-embed`, so they run after package (`mvn verify`), with Debian's Python
 * (python3-ipykernel, python3-pandas, python3-matplotlib, jupyter-nbconvert). Without those the suite is canceled,
 * unless PEFT_EMBED_REQUIRE_NOTEBOOKS=1 (CI sets it), which makes it fail. Executed copies go to target/notebooks.
 */
class NotebooksSuite extends AnyFunSuite with ScratchSpace {
  private val root = Path.of(sys.props("user.dir"))
  private val out = root.resolve("target").resolve("notebooks")
  private val json = new ObjectMapper()
  private val notebooks = Seq("quickstart", "virtual-tokens")
  private val packages = "python3-ipykernel python3-pandas python3-matplotlib jupyter-nbconvert"
  private val timeoutSeconds = 600L

  /** Runs a command; returns its exit code and its stdout and stderr together, or why it could not be started. */
  private def exec(cmd: Seq[String], timeout: Long): Either[String, (Int, String)] = {
    val log = scratch.file("notebook", ".log")
    try {
      val builder = new ProcessBuilder(cmd.asJava).directory(root.resolve("notebooks").toFile)
        .redirectErrorStream(true).redirectOutput(log.toFile)
      // The build's cache home (the POM's argLine), so libtorch and the default model are not unpacked again.
      sys.props.get("peftembed.home").foreach(builder.environment().put("PEFT_EMBED_HOME", _))
      builder.environment().put("PEFT_EMBED_ROOT", root.toString)
      builder.environment().put("PYDEVD_DISABLE_FILE_VALIDATION", "1")
      val process = builder.start()
      if (!process.waitFor(timeout, TimeUnit.SECONDS)) {
        process.descendants().forEach(p => p.destroyForcibly())
        process.destroyForcibly()
        fail(s"${cmd.mkString(" ")} ran over ${timeout}s")
      }
      Right((process.exitValue(), Files.readString(log, UTF_8)))
    } catch {
      case e: java.io.IOException => Left(s"${cmd.head} could not be started: ${e.getMessage}")
    } finally Files.deleteIfExists(log)
  }

  /** The notebook runner and the kernel's interpreter with the libraries the notebooks import, or why not. */
  private lazy val missing: Option[String] = {
    val kernelSpec = Path.of("/usr/share/jupyter/kernels/python3/kernel.json")
    if (!Files.isRegularFile(kernelSpec)) Some(s"no Jupyter python3 kernel at $kernelSpec")
    else {
      val python = json.readTree(kernelSpec.toFile).get("argv").get(0).asText
      exec(Seq(python, "-c", "import ipykernel, pandas, matplotlib, numpy, nbconvert"), 60) match {
        case Right((0, _)) if Files.isExecutable(Path.of("/usr/bin/jupyter-nbconvert")) => None
        case Right((0, _)) => Some("no /usr/bin/jupyter-nbconvert")
        case Right((_, err)) => Some(s"the kernel's $python cannot import the notebooks' libraries: ${err.trim}")
        case Left(why) => Some(s"the kernel's interpreter does not start: $why")
      }
    }
  }

  private def requireRunner(): Unit = missing.foreach { why =>
    val message = s"$why; install them with: apt-get install $packages"
    if (sys.env.get("PEFT_EMBED_REQUIRE_NOTEBOOKS").contains("1")) fail(message) else cancel(message)
  }

  for (name <- notebooks) {
    val file = root.resolve("notebooks").resolve(s"$name.ipynb")

    test(s"notebooks/$name.ipynb is committed without outputs") {
      val cells = json.readTree(file.toFile).get("cells").elements().asScala.toSeq
      assert(cells.nonEmpty)
      for (cell <- cells if cell.get("cell_type").asText == "code") {
        assert(cell.get("outputs").isEmpty && cell.get("execution_count").isNull,
          s"a cell of $file holds outputs: clear them before committing")
      }
      assert(json.readTree(file.toFile).at("/metadata/kernelspec/name").asText == "python3")
    }

    test(s"notebooks/$name.ipynb executes headless, every cell", NotebookTest) {
      requireRunner()
      Files.createDirectories(out)
      val start = System.nanoTime()
      val (code, log) = exec(Seq("/usr/bin/jupyter-nbconvert", "--to", "notebook", "--execute", file.toString,
        "--output-dir", out.toString, s"--ExecutePreprocessor.timeout=$timeoutSeconds"), timeoutSeconds)
        .fold(why => fail(why), identity)
      info(f"executed in ${(System.nanoTime() - start) / 1e9}%.1f s")
      assert(code == 0, s"a cell of $file failed:\n${log.takeRight(4000)}")
      val executed = json.readTree(out.resolve(s"$name.ipynb").toFile)
      val errors = executed.get("cells").elements().asScala.flatMap(_.path("outputs").elements().asScala)
        .filter(_.path("output_type").asText == "error").toSeq
      assert(errors.isEmpty, errors.mkString("\n"))
      val images = executed.get("cells").elements().asScala.flatMap(_.path("outputs").elements().asScala)
        .count(_.path("data").has("image/png"))
      assert(images >= 2, s"$name drew $images figures")
    }
  }
}

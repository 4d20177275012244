package dev.peftembed.cli

import dev.peftembed.embed.{DeviceChoice, EncoderOptions, Normalization, Precision}
import dev.peftembed.pooling.VirtualTokenPolicy
import dev.peftembed.spark.PeftEmbedder
import dev.peftembed.testkit.Console
import java.nio.file.{Files, Path}
import org.scalatest.funsuite.AnyFunSuite
import picocli.CommandLine
import scala.jdk.CollectionConverters._

/** The encoder options mean the same to `encode`, `embed`, the Spark stage and the configuration file. */
class OptionsAgreementSuite extends AnyFunSuite {

  private def parsed(args: String*): EncoderOptions = {
    val flags = new EncodingFlags
    new CommandLine(flags).parseArgs(args: _*)
    flags.options()
  }

  private val commands = new CommandLine(classOf[Main]).getSubcommands.asScala
  private val encodingOptions = new CommandLine(new EncodingFlags).getCommandSpec.options().asScala.toSeq

  test("with nothing set, the command line, the stage and EncoderOptions.defaults() agree") {
    assert(parsed() == EncoderOptions.defaults())
    assert(new PeftEmbedder().encoderOptions() == EncoderOptions.defaults())
  }

  test("encode and embed take every encoder option, with the same default and help") {
    assert(encodingOptions.map(_.longestName).toSet == Set("--virtual-tokens", "--batch-size", "--max-batch-tokens",
      "--max-seq-length", "--prompt", "--prompt-name", "--normalize", "--truncate-dim", "--device", "--dtype"))
    for (command <- Seq("encode", "embed"); option <- encodingOptions) {
      val theirs = commands(command).getCommandSpec.findOption(option.longestName)
      assert(theirs != null, s"$command lacks ${option.longestName}")
      assert(theirs.defaultValue == option.defaultValue && theirs.description.toSeq == option.description.toSeq,
        s"$command ${option.longestName}")
    }
  }

  test("each option's default on the command line is the stage param's default") {
    val stage = new PeftEmbedder()
    for (option <- encodingOptions) {
      val name = "-([a-z])".r.replaceAllIn(option.longestName.stripPrefix("--"), m => m.group(1).toUpperCase)
      val param = stage.getParam(name)
      if (option.defaultValue != null) {
        assert(stage.getDefault(param).get.toString == option.defaultValue, name)
      }
    }
  }

  test("what the command line accepts, the stage holds and gives back unchanged") {
    val cases = Seq(
      Seq("--device", "gpu:1", "--dtype", "float16"),
      Seq("--virtual-tokens", "EXCLUDE", "--batch-size", "8", "--max-batch-tokens", "512", "--max-seq-length", "32",
        "--prompt", "query: ", "--normalize", "--truncate-dim", "16"),
      Seq("--prompt-name", "query", "--no-normalize", "--device", "cpu"),
      Seq("--prompt", "", "--device", "gpu"))
    for (args <- cases) {
      val options = parsed(args: _*)
      assert(new PeftEmbedder().setEncoderOptions(options).encoderOptions() == options, args.mkString(" "))
    }
    val typed = parsed("--device", "gpu:1", "--dtype", "FLOAT16", "--no-normalize", "--virtual-tokens", "exclude")
    assert(typed.device == DeviceChoice.gpu(1) && typed.dtype == Precision.FLOAT16)
    assert(typed.normalize == Normalization.FALSE && typed.virtualTokens == VirtualTokenPolicy.EXCLUDE)
    val unprompted = new PeftEmbedder().setPrompt("query: ").setEncoderOptions(parsed())
    assert(!unprompted.isSet(unprompted.prompt()), "no --prompt clears the stage's prompt: the model's default prompt")
  }

  test("a bad value fails in one line that lists the accepted values, the same from the command line and the stage") {
    val stage = new PeftEmbedder()
    val cases = Seq(
      ("--device", "tpu", () => stage.setDevice("tpu"), "auto, cpu, gpu or gpu:N"),
      ("--dtype", "bfloat16", () => stage.setDtype("bfloat16"), "float32 or float16"),
      ("--virtual-tokens", "maybe", () => stage.setVirtualTokens("maybe"), "include or exclude"))
    for ((flag, value, set, allowed) <- cases) {
      val (code, _, err) = Console.run("encode", "--input", "/dev/null", flag, value)
      assert(code == Main.USAGE_ERROR)
      val fromStage = intercept[IllegalArgumentException](set()).getMessage
      assert(err.linesIterator.filter(_.startsWith("peft-embed:")).toSeq == Seq(s"peft-embed: error: $fromStage"), flag)
      assert(fromStage.contains(allowed) && fromStage.contains(s"\"$value\""), fromStage)
    }
    assert(intercept[IllegalArgumentException](stage.setNormalize("yes")).getMessage
      == "normalize must be model, true or false, got \"yes\"")
  }

  test("conf/peft-embed.properties names embed options only, each example at its default where it has one") {
    val embed = commands("embed").getCommandSpec
    val examples = Files.readAllLines(Path.of("conf", "peft-embed.properties")).asScala.toSeq
      .collect { case line if line.matches("#\\s*[a-z-]+\\s*=.*") =>
        val Array(key, value) = line.stripPrefix("#").split("=", 2).map(_.trim)
        (key, value)
      }
    assert(examples.nonEmpty)
    val keys = examples.map(_._1)
    assert(keys.distinct == keys, "a key twice")
    for ((key, value) <- examples) {
      val option = embed.findOption(s"--$key")
      assert(option != null, s"$key is not an embed option")
      if (option.defaultValue != null) assert(value == option.defaultValue, s"$key = $value")
    }
    val encoderKeys = encodingOptions.map(_.longestName.stripPrefix("--"))
    assert(encoderKeys.forall(keys.contains), s"missing: ${encoderKeys.filterNot(keys.contains)}")
  }
}

package dev.peftembed.docs

import dev.peftembed.cli.Main
import dev.peftembed.spark.PeftEmbedder
import java.nio.file.{Files, Path}
import org.scalatest.funsuite.AnyFunSuite
import picocli.CommandLine
import scala.jdk.CollectionConverters._

/** README's references stay in step with the code: every stage param and embed option listed once, with its default. */
class ReadmeReferenceSuite extends AnyFunSuite {
  private val readme = Files.readAllLines(Path.of("README.md")).asScala.toSeq

  /** Rows of the first table after the heading: (first cell, second cell). */
  private def table(heading: String): Seq[(String, String)] = {
    val start = readme.indexWhere(_.trim == heading)
    assert(start >= 0, s"README has no '$heading' section")
    readme.drop(start + 1).dropWhile(!_.startsWith("|")).takeWhile(_.startsWith("|")).drop(2).map { row =>
      val cells = row.split("\\|").map(_.trim)
      (cells(1).stripPrefix("`").stripSuffix("`"), cells(2))
    }
  }

  test("every PeftEmbedder param is documented once, with its default") {
    val documented = table("## The Spark stage")
    val stage = new PeftEmbedder()
    val params = stage.params.map(_.name).toSeq
    assert(documented.map(_._1).sorted == params.sorted, "README and the stage list different params")
    for ((name, default) <- documented) {
      val param = stage.getParam(name)
      val cell = default.replace("`", "")
      if (!stage.hasDefault(param)) {
        assert(cell.startsWith("unset"), s"$name has no default but README says '$default'")
      } else {
        val value = stage.getDefault(param).get.toString
        if (value.isEmpty) assert(cell.startsWith("empty"), s"$name defaults to empty but README says '$default'")
        else assert(cell == value || cell.startsWith(value + ":") || cell.startsWith(value + " "),
          s"$name defaults to '$value' but README says '$default'")
      }
    }
  }

  test("every embed option (a conf/peft-embed.properties key) is documented once, with its default") {
    val documented = table("### embed options and `conf/peft-embed.properties` keys")
    val options = new CommandLine(classOf[Main]).getSubcommands.get("embed").getCommandSpec.options().asScala
      .filterNot(_.usageHelp).filterNot(_.versionHelp).toSeq
    assert(documented.map(_._1).sorted == options.map(_.longestName).sorted, "README and embed list different options")
    for ((name, default) <- documented) {
      val value = options.find(_.longestName == name).get.defaultValue
      val cell = default.replace("`", "")
      if (value == null) assert(cell.startsWith("none"), s"$name has no default but README says '$default'")
      else assert(cell == value || cell.startsWith(value + ":") || cell.startsWith(value + " "),
        s"$name defaults to '$value' but README says '$default'")
    }
  }
}

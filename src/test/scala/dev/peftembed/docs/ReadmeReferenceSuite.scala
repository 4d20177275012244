package dev.peftembed.docs

import dev.peftembed.cli.Main
import dev.peftembed.embed.{DeviceChoice, Normalization, Precision}
import dev.peftembed.pooling.VirtualTokenPolicy
import dev.peftembed.spark.PeftEmbedder
import java.nio.file.{Files, Path}
import org.scalatest.funsuite.AnyFunSuite
import picocli.CommandLine
import scala.jdk.CollectionConverters._

/**
 * README's references stay in step with the code: every stage param, and every option of every subcommand Main
 * registers, listed once with its default.
 */
class ReadmeReferenceSuite extends AnyFunSuite {
  private val readme = Files.readAllLines(Path.of("README.md")).asScala.toSeq

  /** Rows of the first table after the heading, as their cells, the first without its backticks. */
  private def rows(heading: String): Seq[Seq[String]] = {
    val start = readme.indexWhere(_.trim == heading)
    assert(start >= 0, s"README has no '$heading' section")
    readme.drop(start + 1).dropWhile(!_.startsWith("|")).takeWhile(_.startsWith("|")).drop(2).map { row =>
      val cells = row.split("\\|").map(_.trim).toSeq.drop(1)
      cells.head.stripPrefix("`").stripSuffix("`") +: cells.tail
    }
  }

  /** Rows of the first table after the heading: (first cell, second cell). */
  private def table(heading: String): Seq[(String, String)] = rows(heading).map(r => (r(0), r(1)))

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
        val value = stage.getDefault(param).get match {
          case array: Array[_] => array.mkString(",") // adapters: an empty array is documented as empty
          case other => other.toString
        }
        if (value.isEmpty) assert(cell.startsWith("empty"), s"$name defaults to empty but README says '$default'")
        else assert(cell == value || cell.startsWith(value + ":") || cell.startsWith(value + " "),
          s"$name defaults to '$value' but README says '$default'")
      }
    }
  }

  /** The stage params and command-line options whose values are typed, and the values the code accepts. */
  private val accepted = Seq(
    ("virtualTokens", "--virtual-tokens", VirtualTokenPolicy.ALLOWED),
    ("device", "--device", DeviceChoice.ALLOWED),
    ("dtype", "--dtype", Precision.ALLOWED),
    ("normalize", "", Normalization.ALLOWED))

  test("the stage's docs and README's stage table list the values each typed param accepts") {
    val meanings = rows("## The Spark stage").map(r => r(0) -> r(2).replace("`", "")).toMap
    val stage = new PeftEmbedder()
    for ((param, _, values) <- accepted) {
      assert(stage.getParam(param).doc.contains(values), s"$param's doc should list $values")
      assert(meanings(param).contains(values), s"README's $param row should list $values: ${meanings(param)}")
    }
  }

  /** The README table of a subcommand's options: the one after the heading that starts `<name> options`. */
  private def optionsTable(command: String): Seq[(String, String)] = {
    val headings = readme.filter(_.matches(s"#{2,4} ${java.util.regex.Pattern.quote(command)} options\\b.*"))
    assert(headings.size == 1, s"README should have one '### $command options' section, has ${headings.size}")
    table(headings.head.trim)
  }

  private val subcommands = new CommandLine(classOf[Main]).getSubcommands.asScala.toSeq.sortBy(_._1)

  test("the suite sees Main's subcommands, so the tests below are not an empty loop") {
    assert(subcommands.map(_._1).contains("embed") && subcommands.size > 1)
  }

  for ((command, line) <- subcommands) {
    test(s"every $command option is documented once in README, with its default") {
      val documented = optionsTable(command)
      val options = line.getCommandSpec.options().asScala.filterNot(_.usageHelp).filterNot(_.versionHelp).toSeq
      val names = documented.map(_._1)
      assert(names.distinct == names, s"README lists a $command option twice: ${names.diff(names.distinct)}")
      val declared = options.map(_.longestName).toSet
      def list(set: Set[String]) = set.toSeq.sorted.mkString(", ")
      assert(names.toSet == declared, s"README and $command list different options: undocumented "
        + s"${list(declared -- names)}; stale ${list(names.toSet -- declared)}")
      for ((name, default) <- documented) {
        val value = options.find(_.longestName == name).get.defaultValue
        val cell = default.replace("`", "")
        if (value == null) assert(cell.startsWith("none"), s"$command $name has no default but README says '$default'")
        else assert(cell == value || cell.startsWith(value + ":") || cell.startsWith(value + " "),
          s"$command $name defaults to '$value' but README says '$default'")
      }
      val meanings = rows(readme.find(_.matches(s"#{2,4} ${java.util.regex.Pattern.quote(command)} options\\b.*")).get
        .trim).map(r => r(0) -> r(2).replace("`", "")).toMap
      // Only the typed option of that name: new-adapter's --virtual-tokens is a count.
      def typed(option: String, values: String) =
        options.find(_.longestName == option).exists(_.description.mkString.contains(values))
      for ((_, option, values) <- accepted if typed(option, values)) {
        assert(meanings(option).contains(values), s"README's $command $option row should list $values")
      }
    }
  }
}

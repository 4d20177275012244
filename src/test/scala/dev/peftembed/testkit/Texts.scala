package dev.peftembed.testkit

import com.fasterxml.jackson.databind.ObjectMapper
import java.nio.file.Path
import java.util.Random
import scala.jdk.CollectionConverters._

/** Texts for parity tests: hand-picked hard cases, plus seeded random texts nobody picked. */
object Texts {
  private val longParagraph =
    "Apache Spark is a unified analytics engine for large-scale data processing. It provides high-level APIs in " +
      "Java, Scala, Python and R, and an optimized engine that supports general execution graphs. "

  /** Short, long and truncated, empty, whitespace, non-Latin, emoji, code. */
  val handPicked: Seq[String] = Seq(
    "hello",
    "A man is playing a guitar.",
    "A man plays the guitar.",
    "The quick brown fox jumps over the lazy dog.",
    "How do I reset my password?",
    "What is the capital of France?",
    "Paris is the capital and most populous city of France.",
    "",
    " ",
    "   \t\n  ",
    ".",
    "?!",
    "42",
    "3.14159 2.71828 1.41421",
    "I love this product! 😍🔥👍",
    "🚀🚀🚀",
    "Ünïcödé àccents élevés — naïve café résumé",
    "Straße, Fußgänger, Größe",
    "Привет, как дела? Это тест на русском языке.",
    "这是一个用于测试的中文句子。",
    "日本語のテキストもテストします。",
    "한국어 문장도 포함합니다.",
    "مرحبا بالعالم، هذا نص عربي.",
    "שלום עולם",
    "नमस्ते दुनिया, यह हिंदी में एक वाक्य है।",
    "Ελληνικά κείμενα επίσης.",
    "def add(a, b):\n    return a + b",
    "public static void main(String[] args) { System.out.println(\"hi\"); }",
    "SELECT id, text FROM corpus WHERE length(text) > 10 ORDER BY id;",
    "<html><body><p>Some &amp; markup</p></body></html>",
    "{\"id\": 1, \"text\": \"json inside text\"}",
    "https://example.org/path?query=1&other=two#fragment",
    "user@example.com wrote on 2024-01-01T12:00:00Z",
    "ALL CAPS SENTENCE SHOUTING LOUDLY",
    "mIxEd CaSe wOrDs",
    "word " * 300,
    longParagraph * 12,
    ("The tokenizer must truncate this text at exactly the right place. " * 40).trim,
    "a" * 2000,
    "supercalifragilisticexpialidocious antidisestablishmentarianism pneumonoultramicroscopicsilicovolcanoconiosis",
    "tab\tseparated\tvalues\tand\nnew\nlines",
    "null",
    "\u0000 control \u0007 chars \u001b[31m")

  /** Seeded random texts: random vocabulary words and random code points, of random lengths up to ~400 tokens. */
  def generated(tokenizerJson: Path, count: Int, seed: Long): Seq[String] = {
    val vocab = new ObjectMapper().readTree(tokenizerJson.toFile).get("model").get("vocab").fieldNames().asScala
      .filter(w => w.length > 1 && !w.startsWith("##") && !w.startsWith("[")).toIndexedSeq
    val rnd = new Random(seed)
    val scripts = Seq((0x41, 0x7a), (0x400, 0x4ff), (0x4e00, 0x4fff), (0x600, 0x6ff), (0x1f600, 0x1f64f))
    (0 until count).map { i =>
      if (i % 4 == 3) {
        val (lo, hi) = scripts(rnd.nextInt(scripts.size))
        val n = 1 + rnd.nextInt(80)
        new String((0 until n).map(_ => lo + rnd.nextInt(hi - lo)).toArray, 0, n)
      } else {
        val n = 1 + (math.exp(rnd.nextGaussian() * 1.0 + 3.2)).toInt.min(400)
        (0 until n).map(_ => vocab(rnd.nextInt(vocab.size))).mkString(" ")
      }
    }
  }
}

package dev.peftembed.bench

import dev.peftembed.text.TextTokenizer
import org.scalatest.BeforeAndAfterAll
import org.scalatest.funsuite.AnyFunSuite
import scala.jdk.CollectionConverters._

/**
 * The benchmark's corpora are reproducible and have the length profiles the issue specifies, in tokens as the real
 * tokenizer counts them (not as the generator believes).
 */
class CorpusGeneratorSuite extends AnyFunSuite with BeforeAndAfterAll {
  private lazy val model = BenchModel.resolveDefault()
  private lazy val tokenizer: TextTokenizer = model.tokenizer()
  private lazy val generator = CorpusGenerator.fromSamples(tokenizer, CorpusGenerator.DEFAULT_SEED)
  private val n = 2000

  override protected def afterAll(): Unit = {
    tokenizer.close()
    super.afterAll()
  }

  private def realLengths(c: Corpus): Seq[Int] = tokenizer.encode(c.texts).asScala.map(_.length).toSeq

  private def median(xs: Seq[Int]): Double = {
    val s = xs.sorted
    if (s.length % 2 == 1) s(s.length / 2) else (s(s.length / 2 - 1) + s(s.length / 2)) / 2.0
  }

  test("the same seed gives the same texts; another seed gives other texts") {
    val again = model.generator(CorpusGenerator.DEFAULT_SEED)
    val other = model.generator(CorpusGenerator.DEFAULT_SEED + 1)
    for (kind <- CorpusKind.values) {
      val a = generator.corpus(kind, 300)
      assert(a.texts == again.corpus(kind, 300).texts, kind.label)
      assert(a.tokenLengths.toSeq == again.corpus(kind, 300).tokenLengths.toSeq, kind.label)
      assert(a.texts.asScala.zip(other.corpus(kind, 300).texts.asScala).count { case (x, y) => x == y } < 3,
        kind.label)
    }
  }

  test("text i does not depend on the corpus size, so a small corpus is a prefix of a large one") {
    for (kind <- CorpusKind.values) {
      val small = generator.corpus(kind, 50).texts.asScala
      val large = generator.corpus(kind, 500).texts.asScala
      assert(large.take(50) == small, kind.label)
      assert(generator.text(kind, 123) == large(123), kind.label)
    }
  }

  test("token lengths are the tokenizer's, exactly, for every text of every profile") {
    for (kind <- CorpusKind.values) {
      val c = generator.corpus(kind, n)
      assert(realLengths(c) == c.tokenLengths.toSeq, kind.label)
      assert(c.totalTokens == c.tokenLengths.map(_.toLong).sum)
    }
  }

  test("every profile stays within its declared bounds, which are the issue's") {
    assert((CorpusKind.SHORT.minTokens, CorpusKind.SHORT.maxTokens) == (8, 20))
    assert((CorpusKind.MIXED.minTokens, CorpusKind.MIXED.maxTokens) == (5, 256))
    assert((CorpusKind.LONG.minTokens, CorpusKind.LONG.maxTokens) == (200, 256))
    for (kind <- CorpusKind.values) {
      assert(generator.corpus(kind, n).tokenLengths.forall(l => l >= kind.minTokens && l <= kind.maxTokens),
        kind.label)
    }
  }

  test("short: 8–20 tokens, every length drawn") {
    val lengths = generator.corpus(CorpusKind.SHORT, n).tokenLengths.toSeq
    assert(lengths.toSet == (8 to 20).toSet)
  }

  test("mixed: log-normal within 5–256, median about 40, a real tail of long texts") {
    val lengths = generator.corpus(CorpusKind.MIXED, n).tokenLengths.toSeq
    val m = median(lengths)
    assert(m >= 36 && m <= 44, s"median $m")
    // Log-normal, not symmetric: the mean sits above the median, and about 1 text in 10 is over 100 tokens.
    assert(lengths.sum.toDouble / lengths.length > m)
    val over100 = lengths.count(_ > 100).toDouble / lengths.length
    assert(over100 > 0.05 && over100 < 0.2, s"share over 100 tokens: $over100")
    assert(lengths.count(_ < 15) > 0 && lengths.count(_ > 200) > 0)
    val logs = lengths.map(l => math.log(l.toDouble))
    val mean = logs.sum / logs.length
    val sd = math.sqrt(logs.map(x => (x - mean) * (x - mean)).sum / logs.length)
    assert(sd > 0.6 && sd < 0.8, s"sd of ln(length): $sd")
  }

  test("long: 200–256 tokens, never over the model's limit, so nothing is truncated") {
    val c = generator.corpus(CorpusKind.LONG, n)
    assert(c.tokenLengths.forall(_ <= model.plan.maxRealTokens))
    assert(tokenizer.encode(c.texts).asScala.forall(!_.truncated))
  }

  test("texts are made of the bundled sample's words") {
    val words = SampleText.sentences().asScala.flatMap(_.trim.split("\\s+")).toSet
    for (kind <- CorpusKind.values; t <- generator.corpus(kind, 200).texts.asScala) {
      assert(t.split(" ").forall(words.contains), t)
    }
  }
}

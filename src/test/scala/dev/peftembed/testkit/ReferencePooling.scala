package dev.peftembed.testkit

/**
 * Pooling written from sentence-transformers' definitions, in double precision, for one unpadded text: the
 * reference side of parity tests. Independent of the code under test.
 */
object ReferencePooling {
  def mean(h: Array[Array[Float]], mask: Array[Double]): Array[Double] = {
    val sum = weightedSum(h, mask)
    val n = math.max(mask.sum, 1e-9)
    sum.map(_ / n)
  }

  def meanSqrtLen(h: Array[Array[Float]], mask: Array[Double]): Array[Double] = {
    val sum = weightedSum(h, mask)
    val n = math.sqrt(math.max(mask.sum, 1e-9))
    sum.map(_ / n)
  }

  def weightedMean(h: Array[Array[Float]], mask: Array[Double]): Array[Double] = {
    val w = mask.indices.map(i => mask(i) * (i + 1)).toArray
    val sum = weightedSum(h, w)
    val n = math.max(w.sum, 1e-9)
    sum.map(_ / n)
  }

  def max(h: Array[Array[Float]], mask: Array[Double]): Array[Double] =
    h.head.indices.map { j =>
      h.indices.map(i => if (mask(i) == 0) -1e9 else h(i)(j).toDouble).max
    }.toArray

  def cls(h: Array[Array[Float]], position: Int): Array[Double] = h(position).map(_.toDouble)

  def lastToken(h: Array[Array[Float]], mask: Array[Double]): Array[Double] = {
    val last = mask.lastIndexWhere(_ != 0)
    if (last < 0) new Array[Double](h.head.length) else h(last).map(_.toDouble)
  }

  def normalize(v: Array[Double]): Array[Double] = {
    val n = math.max(math.sqrt(v.map(x => x * x).sum), 1e-12)
    v.map(_ / n)
  }

  /** The pooling mask of a text with M virtual tokens first. */
  def mask(virtual: Int, real: Int, includeVirtual: Boolean): Array[Double] =
    Array.fill(virtual)(if (includeVirtual) 1.0 else 0.0) ++ Array.fill(real)(1.0)

  private def weightedSum(h: Array[Array[Float]], w: Array[Double]): Array[Double] = {
    val out = new Array[Double](h.head.length)
    for (i <- h.indices if w(i) != 0; j <- out.indices) out(j) += w(i) * h(i)(j)
    out
  }
}

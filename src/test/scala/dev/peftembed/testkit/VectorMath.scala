package dev.peftembed.testkit

/** Agreement between a computed float vector and a reference. */
object VectorMath {
  def cosine(a: Array[Float], b: Array[Double]): Double = {
    var dot, na, nb = 0.0
    for (i <- a.indices) {
      dot += a(i) * b(i); na += a(i).toDouble * a(i); nb += b(i) * b(i)
    }
    dot / math.sqrt(na * nb)
  }

  def maxAbsDiff(a: Array[Float], b: Array[Double]): Double =
    a.indices.map(i => math.abs(a(i) - b(i))).max

  def maxAbsDiff(a: Array[Float], b: Array[Float]): Double =
    a.indices.map(i => math.abs(a(i) - b(i)).toDouble).max

  /** Worst agreement over many vectors, for the closing figures. */
  final case class Agreement(worstCosine: Double, worstAbsDiff: Double, count: Int) {
    def add(cos: Double, diff: Double): Agreement = Agreement(math.min(worstCosine, cos), math.max(worstAbsDiff, diff),
      count + 1)
    override def toString: String = f"n=$count, worst cosine=$worstCosine%.7f, worst max|Δ|=$worstAbsDiff%.2e"
  }
  val noAgreementYet: Agreement = Agreement(1.0, 0.0, 0)
}

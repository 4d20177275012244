package dev.peftembed.encoder.bert;

import ai.djl.ndarray.NDArray;

/**
 * One linear module's unmerged adapter term on the device: (x·Aᵀ)·Bᵀ with the scale in B, plus a shift of the
 * bias. Two thin matrix products per batch instead of a second copy of the module's weight.
 *
 * @param aT Aᵀ [in, r], or {@code null} when only the bias moves
 * @param bT scale·Bᵀ [r, out], or {@code null} when only the bias moves
 * @param shift [out] added to the output, or {@code null}
 */
record LowRankTerm(NDArray aT, NDArray bT, NDArray shift) {

  /** Adds the term for input {@code x} [rows, in] to {@code projected} [rows, out] in place; null adds nothing. */
  static void addTo(LowRankTerm term, NDArray projected, NDArray x) {
    if (term == null) {
      return;
    }
    if (term.aT != null) {
      try (NDArray down = x.matMul(term.aT); NDArray up = down.matMul(term.bT)) {
        projected.addi(up);
      }
    }
    if (term.shift != null) {
      projected.addi(term.shift);
    }
  }

  /** Adds {@code shift} to {@code x} in place when there is one (a LayerNorm's moved bias). */
  static NDArray shifted(NDArray x, NDArray shift) {
    return shift == null ? x : x.addi(shift);
  }
}

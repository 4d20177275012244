package dev.peftembed.bench;

/**
 * The token positions one pass over a corpus processes.
 *
 * @param real tokens of the texts themselves, special tokens included, up to the limit the system reads
 * @param padded positions the forward passes compute: real tokens plus the padding of each batch
 */
public record TokenCount(long real, long padded) {

  /** @return real tokens over padded positions: 1.0 means no compute spent on padding */
  public double paddingEfficiency() {
    return padded == 0 ? 1.0 : (double) real / padded;
  }
}

package dev.peftembed.pooling;

import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * M, the number of virtual tokens in front of a model's output, taken from each batch as M = L_out − L_in and
 * checked: against the declared M, or, where none is declared, against the M the first batch showed.
 *
 * <p>Thread-safe: task threads share one encoder, and whichever batch finishes first fixes an undeclared M for all.
 */
final class VirtualTokenCount {
  private static final Logger LOG = LoggerFactory.getLogger(VirtualTokenCount.class);

  private static final int UNKNOWN = -1;

  private final boolean declared;
  private final AtomicInteger value;
  private final String source;

  private VirtualTokenCount(boolean declared, int value, String source) {
    this.declared = declared;
    this.value = new AtomicInteger(value);
    this.source = source;
  }

  /** M as declared by {@code source} (an adapter; 0 without one); every batch must show exactly it. */
  static VirtualTokenCount declared(int m, String source) {
    if (m < 0 || m > MaskAligner.MAX_VIRTUAL_TOKENS) {
      throw new IllegalArgumentException("virtual token count must be between 0 and "
          + MaskAligner.MAX_VIRTUAL_TOKENS + ", got " + m);
    }
    return new VirtualTokenCount(true, m, source);
  }

  /** M unknown until the first batch, which fixes it for every later one. */
  static VirtualTokenCount detected(String source) {
    return new VirtualTokenCount(false, UNKNOWN, source);
  }

  /**
   * @param batch rows in the batch, for messages
   * @param maskLength L_in, the padded length of the tokenizer's mask
   * @param outputLength L_out, positions per row in the model's output
   * @return M for this batch
   * @throws MaskAlignmentException if M is negative, beyond {@link MaskAligner#MAX_VIRTUAL_TOKENS}, or not the
   *     expected one
   */
  int of(int batch, int maskLength, int outputLength) {
    int m = outputLength - maskLength;
    if (m < 0 || m > MaskAligner.MAX_VIRTUAL_TOKENS) {
      throw MaskAlignmentException.implausible(batch, maskLength, outputLength, MaskAligner.MAX_VIRTUAL_TOKENS,
          source);
    }
    if (declared) {
      if (m != value.get()) {
        throw new MaskAlignmentException(outputLength, maskLength, value.get(), source);
      }
      return m;
    }
    if (value.compareAndSet(UNKNOWN, m)) {
      LOG.info("{}: detected M = {} virtual tokens from the first batch ({} output positions for an attention mask "
          + "of {}); every later batch must show the same", source, m, outputLength, maskLength);
      return m;
    }
    int fixed = value.get();
    if (m != fixed) {
      throw MaskAlignmentException.changed(outputLength, maskLength, fixed, source);
    }
    return m;
  }

  /** @return M: the declared one, the one detected so far, or 0 before the first batch of an undeclared M */
  int current() {
    return Math.max(value.get(), 0);
  }

  /** @return whether M was declared rather than detected */
  boolean isDeclared() {
    return declared;
  }
}

package dev.peftembed.encoder;

/**
 * How large one intermediate tensor of a CPU forward pass may grow, and so how many rows run at once.
 *
 * <p>libtorch allocates CPU tensors with plain malloc. glibc serves a block from its heap only below its mmap
 * threshold, which adapts up to 32 MiB on 64-bit systems ({@code DEFAULT_MMAP_THRESHOLD_MAX}, mallopt(3)), and a
 * thread's arena (every JVM thread allocates from one) grows in heaps of at most 64 MiB. A larger block is mapped
 * afresh on every allocation and unmapped when freed, and the kernel zero-fills each of its pages on first touch: in
 * a long-text batch that happens to the feed-forward activations of every layer. Where
 * page faults are costly (virtual machines), that fresh memory, not arithmetic, sets the speed. Held to a quarter of
 * glibc's ceiling, the few tensors a layer keeps alive at once fit one arena heap, so freed blocks come back warm
 * whatever the malloc settings of the process. Matrix products over a few thousand positions already run at full
 * speed, so the smaller passes cost no arithmetic throughput. Attention builds no score tensor at all
 * ({@link ScaledDotProductAttention}).
 *
 * <p>A GPU has a caching allocator of its own and runs whole batches.
 */
public final class CpuActivationBudget {
  /** The largest intermediate tensor, in bytes (fp32 counted; half precision only halves it). */
  static final long BLOCK_BYTES = 8L << 20;

  private CpuActivationBudget() {}

  /**
   * @param length padded positions per row, virtual tokens included
   * @param widest the widest activation of a layer, in values per position
   * @return rows whose [rows·L, widest] activation fits the budget, at least 1
   */
  public static int passRows(long length, long widest) {
    long perRow = 4L * length * widest;
    return (int) Math.max(1, Math.min(Integer.MAX_VALUE, BLOCK_BYTES / perRow));
  }
}

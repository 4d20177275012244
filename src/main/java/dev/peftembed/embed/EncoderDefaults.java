package dev.peftembed.embed;

/**
 * The one declaration of every encoder option's default, written as a user would type it. {@link
 * EncoderOptions#defaults()}, the Spark stage's params, the {@code encode} and {@code embed} options and the
 * commented keys of {@code conf/peft-embed.properties} all take their defaults from here; they are strings because
 * the command line's annotations need compile-time constants. An optional limit's {@code 0} means "none": the
 * model's own.
 */
public final class EncoderDefaults {
  /** Virtual tokens take part in pooling, as sentence-transformers computes. */
  public static final String VIRTUAL_TOKENS = "include";

  /** Rows per forward pass. */
  public static final String BATCH_SIZE = "64";

  /** Padded positions per forward pass, virtual tokens included. */
  public static final String MAX_BATCH_TOKENS = "16384";

  /** No real-token limit of our own: the model's {@code max_seq_length}. */
  public static final String MAX_SEQ_LENGTH = "0";

  /** As the model's modules say. */
  public static final String NORMALIZE = "model";

  /** Every dimension. */
  public static final String TRUNCATE_DIM = "0";

  /** A GPU when there is one, else the CPU. */
  public static final String DEVICE = "auto";

  /** Single precision. */
  public static final String DTYPE = "float32";

  private EncoderDefaults() {}
}

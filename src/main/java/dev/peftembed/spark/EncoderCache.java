package dev.peftembed.spark;

import dev.peftembed.embed.EncoderOptions;
import dev.peftembed.embed.MultiAdapterEncoder;
import dev.peftembed.embed.MultiAdapterPlan;
import dev.peftembed.embed.SentenceEncoder;
import java.nio.file.Path;
import java.util.Map;
import org.apache.spark.util.LongAccumulator;

/**
 * The encoders of one JVM (one executor), shared by all its task threads and kept for the JVM's life: a model is
 * loaded once per executor and key, not once per task or partition, however many jobs use it.
 *
 * <p>Loading is lazy and happens once per key even when several tasks start at the same time: the first loads, the
 * others wait for it. Nothing is closed between partitions or jobs; the native memory goes with the process when
 * the executor exits. No shutdown hook closes the encoders: task threads may still be inside a forward pass while
 * hooks run, and freeing libtorch memory under them would turn an orderly exit into a native crash.
 */
public final class EncoderCache {
  private static final OncePerKey<Key, SentenceEncoder> ENCODERS = new OncePerKey<>();
  private static final OncePerKey<SharedKey, MultiAdapterEncoder> SHARED = new OncePerKey<>();

  /**
   * What makes two encoders differ. Every option is part of it, because the encoder applies them all; the device is
   * the resolved one ({@code cpu}, {@code gpu:N}), so each GPU gets its own model.
   *
   * @param model the local model directory
   * @param adapter the local adapter directory, or {@code null}
   * @param options the encoding options, with the device resolved
   */
  public record Key(Path model, Path adapter, EncoderOptions options) {}

  /**
   * What makes two many-adapter encoders differ.
   *
   * @param model the local model directory
   * @param adapters the local adapter directories by name
   * @param options the encoding options, with the device resolved
   */
  public record SharedKey(Path model, Map<String, Path> adapters, EncoderOptions options) {}

  private EncoderCache() {}

  /**
   * @param key the model, the named adapters and options
   * @param loads counts the loads this call actually performs: one per base model, whatever the adapters
   * @return the JVM's many-adapter encoder for {@code key}, loaded now if no task has loaded it yet
   */
  public static MultiAdapterEncoder get(SharedKey key, LongAccumulator loads) {
    return SHARED.get(key, k -> {
      MultiAdapterEncoder encoder = MultiAdapterEncoder.load(MultiAdapterPlan.resolve(k.model(), k.adapters(),
          k.options()));
      loads.add(1);
      return encoder;
    });
  }

  /**
   * @param key the model, adapter and options
   * @param loads counts the loads this call actually performs (not the cache hits)
   * @return the JVM's encoder for {@code key}, loaded now if no task has loaded it yet
   */
  public static SentenceEncoder get(Key key, LongAccumulator loads) {
    return ENCODERS.get(key, k -> {
      SentenceEncoder encoder = SentenceEncoder.load(k.model(), k.adapter(), k.options());
      loads.add(1);
      return encoder;
    });
  }
}

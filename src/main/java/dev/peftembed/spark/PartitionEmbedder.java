package dev.peftembed.spark;

import dev.peftembed.embed.DeviceChoice;
import dev.peftembed.embed.Embedding;
import dev.peftembed.embed.EncoderOptions;
import dev.peftembed.embed.MultiAdapterEncoder;
import dev.peftembed.embed.SentenceEncoder;
import dev.peftembed.runtime.DjlRuntime;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiFunction;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.resource.ResourceInformation;
import org.apache.spark.sql.Row;
import org.apache.spark.util.LongAccumulator;

/**
 * The executor side of {@link PeftEmbedder}: what each task runs over its partition. It holds only what the driver
 * resolved (sources, options, output layout, the load counter), never the stage itself.
 */
final class PartitionEmbedder implements MapPartitionsFunction<Row, Row> {
  private static final long serialVersionUID = 1L;

  private final ModelSource model;
  private final ModelSource adapter;
  private final LinkedHashMap<String, ModelSource> named;
  private final EncoderOptions options;
  private final OutputLayout layout;
  private final int window;
  private final LongAccumulator loads;

  /**
   * @param model where the model directory is
   * @param adapter where the adapter applied to every row is, or {@code null}
   * @param named where each named adapter is, by name; empty for none
   * @param options encoding options; the device is still the requested one
   * @param layout the output rows' shape
   * @param window the most rows encoded together
   * @param loads counts model loads on the executors
   */
  PartitionEmbedder(ModelSource model, ModelSource adapter, LinkedHashMap<String, ModelSource> named,
      EncoderOptions options, OutputLayout layout, int window, LongAccumulator loads) {
    this.model = model;
    this.adapter = adapter;
    this.named = named;
    this.options = options;
    this.layout = layout;
    this.window = window;
    this.loads = loads;
  }

  @Override
  public Iterator<Row> call(Iterator<Row> rows) {
    TaskContext task = TaskContext.get();
    // The encoder is looked up at the first window, so an empty partition neither copies nor loads a model.
    AtomicReference<BiFunction<List<String>, List<String>, List<Embedding>>> encoder = new AtomicReference<>();
    return new WindowedEmbeddingIterator(rows, window, (texts, adapters) -> {
      if (encoder.get() == null) {
        encoder.set(encoderFor(task));
        // libtorch would split every op over all of the executor's cores while Spark runs a task on each of them:
        // N tasks of N threads thrash, and every op waits at a barrier for its slowest thread. A task computes on the
        // cores Spark gave it (spark.task.cpus).
        DjlRuntime.computeThreads(task.cpus());
      }
      return encoder.get().apply(texts, adapters);
    }, layout);
  }

  /** @return the executor's encoder, as a function of a window's texts and adapter names */
  private BiFunction<List<String>, List<String>, List<Embedding>> encoderFor(TaskContext task) {
    DeviceChoice device = TaskDevices.select(options.device(), assignedGpus(task),
        () -> DjlRuntime.pytorch().getGpuCount(), task.partitionId());
    Path modelDir = ModelLocator.localize(model);
    EncoderOptions resolved = options.withDevice(device, options.dtype());
    if (!named.isEmpty()) {
      MultiAdapterEncoder shared = EncoderCache.get(new EncoderCache.SharedKey(modelDir,
          ResolvedStage.localize(named), resolved), loads);
      return shared::encode;
    }
    Path adapterDir = adapter == null ? null : ModelLocator.localize(adapter);
    SentenceEncoder one = EncoderCache.get(new EncoderCache.Key(modelDir, adapterDir, resolved), loads);
    return (texts, adapters) -> one.encode(texts);
  }

  private static List<String> assignedGpus(TaskContext task) {
    ResourceInformation gpus = task.resourcesJMap().get("gpu");
    return gpus == null ? List.of() : Arrays.asList(gpus.addresses());
  }
}

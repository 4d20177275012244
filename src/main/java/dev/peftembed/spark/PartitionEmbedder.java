package dev.peftembed.spark;

import dev.peftembed.embed.DeviceChoice;
import dev.peftembed.embed.EncoderOptions;
import dev.peftembed.embed.SentenceEncoder;
import dev.peftembed.runtime.DjlRuntime;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
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
  private final EncoderOptions options;
  private final OutputLayout layout;
  private final int window;
  private final LongAccumulator loads;

  /**
   * @param model where the model directory is
   * @param adapter where the adapter directory is, or {@code null}
   * @param options encoding options; the device is still the requested one
   * @param layout the output rows' shape
   * @param window the most rows encoded together
   * @param loads counts model loads on the executors
   */
  PartitionEmbedder(ModelSource model, ModelSource adapter, EncoderOptions options, OutputLayout layout, int window,
      LongAccumulator loads) {
    this.model = model;
    this.adapter = adapter;
    this.options = options;
    this.layout = layout;
    this.window = window;
    this.loads = loads;
  }

  @Override
  public Iterator<Row> call(Iterator<Row> rows) {
    TaskContext task = TaskContext.get();
    // The encoder is looked up at the first window, so an empty partition neither copies nor loads a model.
    SentenceEncoder[] encoder = new SentenceEncoder[1];
    return new WindowedEmbeddingIterator(rows, window, texts -> {
      if (encoder[0] == null) {
        encoder[0] = encoderFor(task);
        // libtorch would split every op over all of the executor's cores while Spark runs a task on each of them:
        // N tasks of N threads thrash, and every op waits at a barrier for its slowest thread. A task computes on the
        // cores Spark gave it (spark.task.cpus).
        DjlRuntime.computeThreads(task.cpus());
      }
      return encoder[0].encode(texts);
    }, layout);
  }

  private SentenceEncoder encoderFor(TaskContext task) {
    DeviceChoice device = TaskDevices.select(options.device(), assignedGpus(task),
        () -> DjlRuntime.pytorch().getGpuCount(), task.partitionId());
    Path modelDir = ModelLocator.localize(model);
    Path adapterDir = adapter == null ? null : ModelLocator.localize(adapter);
    return EncoderCache.get(new EncoderCache.Key(modelDir, adapterDir, options.withDevice(device, options.dtype())),
        loads);
  }

  private static List<String> assignedGpus(TaskContext task) {
    ResourceInformation gpus = task.resourcesJMap().get("gpu");
    return gpus == null ? List.of() : Arrays.asList(gpus.addresses());
  }
}

package dev.peftembed.cli;

import dev.peftembed.job.EmbedJob;
import dev.peftembed.job.InputFormat;
import dev.peftembed.job.JobSummary;
import dev.peftembed.job.OutputFormat;
import dev.peftembed.onnx.DefaultModel;
import dev.peftembed.spark.PeftEmbedder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SaveMode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code embed}: the Spark job. Run with no arguments, it embeds the bundled sample corpus with the default model on
 * local Spark and shows nearest neighbours. Under {@code spark-submit} (or {@code scripts/peft-embed} with a cluster
 * master) the master comes from Spark's own configuration.
 */
@Command(name = "embed", mixinStandardHelpOptions = true,
    description = {"Embed a table of texts on Spark and write id, embedding, num_tokens, truncated.",
        "Any option can also be set in conf/peft-embed.properties (or --config FILE); the command line wins."})
final class EmbedCommand implements Callable<Integer> {
  private static final Logger LOG = LoggerFactory.getLogger(EmbedCommand.class);

  @Option(names = "--input", paramLabel = "PATH", description = "file or directory (default: the bundled sample "
      + "corpus, as a demo)")
  String input;

  @Option(names = "--input-format", description = "jsonl, parquet, csv or text (default: by extension or content)")
  String inputFormat;

  @Option(names = "--text-col", defaultValue = "text", description = "text column (default: ${DEFAULT-VALUE})")
  String textCol;

  @Option(names = "--id-col", defaultValue = "id",
      description = "id column; generated from row positions when absent (default: ${DEFAULT-VALUE})")
  String idCol;

  @Option(names = "--model", paramLabel = "DIR", description = "model directory, local or any Hadoop URI "
      + "(default: all-MiniLM-L6-v2)")
  String model;

  @Option(names = "--adapter", paramLabel = "[NAME=]DIR", description = "PEFT adapter directory, local or any Hadoop "
      + "URI; DIR alone applies to every row, repeated NAME=DIR declare adapters that each row picks by name in "
      + "--adapter-col (null: the base model)")
  List<String> adapters = new ArrayList<>();

  @Option(names = "--base-model", paramLabel = "DIR", description = "the base model of a --model directory saved "
      + "with an adapter (adapter_config.json and adapter_model.safetensors in place of the weights); default: the "
      + "adapter's base_model_name_or_path when that is a local directory")
  String baseModel;

  @Option(names = "--adapter-col", defaultValue = "adapter", description = "with named adapters, the column naming "
      + "each row's adapter (default: ${DEFAULT-VALUE})")
  String adapterCol;

  @Option(names = "--output", paramLabel = "PATH", description = "where to write (demo default: "
      + "$PEFT_EMBED_HOME/demo/embeddings, replaced on each demo run)")
  String output;

  @Option(names = "--output-format", defaultValue = "parquet", description = "parquet, jsonl or delta (default: "
      + "${DEFAULT-VALUE})")
  String outputFormat;

  @Option(names = "--incremental", description = "embed only rows whose id is new or whose text changed, and update "
      + "the output in place (a MERGE for delta); --mode overwrite re-embeds every row")
  boolean incremental;

  @Option(names = "--keep-deleted", description = "with --incremental, keep output rows whose id is gone from the "
      + "input (default: delete them, so the output mirrors the input)")
  boolean keepDeleted;

  @Option(names = "--mode", defaultValue = "error", description = "error, overwrite or append (default: "
      + "${DEFAULT-VALUE})")
  String mode;

  @Mixin
  EncodingFlags encoding = new EncodingFlags();

  @Option(names = "--progress-seconds", defaultValue = "15", description = "how often to log progress")
  long progressSeconds;

  @Mixin
  SparkFlags spark = new SparkFlags();

  @Option(names = "--config", paramLabel = "FILE", description = "properties file of defaults for these options "
      + "(default: conf/peft-embed.properties when present)")
  Path config;

  @Override
  public Integer call() {
    boolean demo = input == null;
    PeftEmbedder stage = new PeftEmbedder()
        .setModelPath(model == null ? "" : model)
        .setBaseModelPath(baseModel == null ? "" : baseModel)
        .setEncoderOptions(encoding.options());
    Path single = EncoderFlags.singleAdapter(adapters);
    if (single != null) {
      stage.setAdapterPath(adapters.get(0));
    } else {
      stage.setAdapters(adapters.toArray(new String[0])).setAdapterCol(adapterCol);
    }
    InputFormat format = inputFormat == null ? null : InputFormat.parse(inputFormat);
    OutputFormat outFormat = OutputFormat.parse(outputFormat);
    SaveMode saveMode = saveMode(mode);
    if (keepDeleted && !incremental) {
      throw new IllegalArgumentException("--keep-deleted applies only with --incremental");
    }
    spark.deltaLake = outFormat == OutputFormat.DELTA;
    return spark.withSession(session -> {
      if (model == null && !session.sparkContext().isLocal()) {
        stage.setModelPath(defaultModelForExecutors());
      }
      if (demo) {
        return Demo.run(session, stage, output, outFormat, saveMode, progressSeconds);
      }
      if (output == null) {
        throw new IllegalArgumentException("--output is required with --input");
      }
      JobSummary summary = EmbedJob.run(session, new EmbedJob.Request(input, format, textCol, idCol, output,
          outFormat, saveMode, stage, progressSeconds, incremental, keepDeleted, spark.partitions()));
      System.out.println(summary.toJson());
      return 0;
    });
  }

  /**
   * The app jar leaves the default model's 83 MB artifact out, so executors cannot import the model themselves: the
   * driver imports it (from its own classpath, or finds the earlier import) and hands them the local directory. That
   * works when executors share the driver's host or its cache home; other clusters pass {@code --model}.
   */
  private static String defaultModelForExecutors() {
    String dir = DefaultModel.resolve().toString();
    LOG.info("no --model: executors will read the default model from {} (on a multi-host cluster pass --model with "
        + "a path every executor can read)", dir);
    return dir;
  }

  static SaveMode saveMode(String name) {
    return switch (name.toLowerCase(Locale.ROOT)) {
      case "error", "errorifexists" -> SaveMode.ErrorIfExists;
      case "overwrite" -> SaveMode.Overwrite;
      case "append" -> SaveMode.Append;
      default -> throw new IllegalArgumentException("mode must be error, overwrite or append, got \"" + name + "\"");
    };
  }
}

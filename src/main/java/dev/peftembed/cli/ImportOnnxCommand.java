package dev.peftembed.cli;

import dev.peftembed.onnx.BertOnnxImporter;
import dev.peftembed.onnx.ImportOptions;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code import-onnx}: a BERT-family ONNX export plus tokenizer.json become a sentence-transformers directory. */
@Command(name = "import-onnx", mixinStandardHelpOptions = true,
    description = "Convert a BERT-family ONNX export into a sentence-transformers model directory.")
final class ImportOnnxCommand implements Callable<Integer> {
  @Option(names = "--onnx", required = true, paramLabel = "FILE", description = "the ONNX export")
  Path onnx;

  @Option(names = "--tokenizer", required = true, paramLabel = "FILE", description = "its tokenizer.json")
  Path tokenizer;

  @Option(names = "--output", required = true, paramLabel = "DIR", description = "the directory to create")
  Path output;

  @Option(names = "--pooling", defaultValue = "mean",
      description = "cls, mean, max, mean_sqrt_len, weightedmean or lasttoken (default: ${DEFAULT-VALUE})")
  String pooling;

  @Option(names = "--normalize", negatable = true, defaultValue = "true",
      description = "append a Normalize module (default: ${DEFAULT-VALUE})")
  boolean normalize;

  @Option(names = "--max-seq-length", defaultValue = "256",
      description = "max_seq_length for sentence_bert_config.json (default: ${DEFAULT-VALUE})")
  int maxSeqLength;

  @Option(names = "--num-heads", description = "attention heads, when the graph does not tell")
  Integer numHeads;

  @Override
  public Integer call() throws IOException {
    BertOnnxImporter.importModel(onnx, tokenizer, new ImportOptions(pooling, normalize, maxSeqLength, numHeads),
        output);
    System.out.println(output.toAbsolutePath());
    return 0;
  }
}

package dev.peftembed.onnx;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.peftembed.model.BertConfig;
import dev.peftembed.model.ModelFormatException;
import dev.peftembed.model.SafetensorsWriter.Entry;
import java.io.IOException;
import java.nio.file.Path;
import java.util.SortedMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns a BERT-family ONNX export (as produced by {@code torch.onnx.export} of a Hugging Face {@code BertModel})
 * into a sentence-transformers model directory: {@code model.safetensors} under Hugging Face parameter names
 * ({@link OnnxWeights}), a {@code config.json} inferred from the graph ({@link BertConfigInference}), the tokenizer,
 * and the pooling and normalization modules ({@link SentenceTransformersWriter}).
 */
public final class BertOnnxImporter {

  private static final Logger LOG = LoggerFactory.getLogger(BertOnnxImporter.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private BertOnnxImporter() {}

  /**
   * Imports a BERT-family ONNX model as a sentence-transformers model directory.
   *
   * <p>The directory is assembled next to {@code outputDir} and renamed into place only when complete, so a
   * failed or interrupted import never leaves a half-written model behind.
   *
   * @param onnxFile the {@code .onnx} export, with all weights inside the file
   * @param tokenizerJson the model's Hugging Face {@code tokenizer.json}, copied as is
   * @param options pooling, normalization, sequence length and an optional head count
   * @param outputDir the directory to create; it may exist only if empty
   * @throws IOException if a file cannot be read or written, or {@code outputDir} exists and is not empty
   * @throws ModelFormatException if the ONNX file is malformed or not a BERT-style encoder, or the tokenizer is not
   *     JSON
   * @throws IllegalArgumentException if the options do not fit the model
   */
  public static void importModel(Path onnxFile, Path tokenizerJson, ImportOptions options, Path outputDir)
      throws IOException {
    long start = System.nanoTime();
    Path target = outputDir.toAbsolutePath().normalize();
    StagedDirectory.requireEmptyOrAbsent(target);
    requireJson(tokenizerJson);

    OnnxGraph graph = OnnxGraph.read(onnxFile);
    SortedMap<String, Entry> weights = OnnxWeights.extract(graph);
    BertConfig config = BertConfigInference.infer(graph, weights, options.numAttentionHeads());
    if (options.maxSeqLength() > config.maxPositions()) {
      throw new IllegalArgumentException("max sequence length " + options.maxSeqLength() + " exceeds the "
          + config.maxPositions() + " position embeddings of " + onnxFile);
    }
    StagedDirectory.create(target,
        dir -> SentenceTransformersWriter.write(dir, weights, config, tokenizerJson, options));

    long parameters = weights.values().stream().mapToLong(e -> e.data().length).sum();
    LOG.info("Imported {} into {}: {}-layer BERT, hidden {}, {} heads, intermediate {}, {}, eps {}; {} tensors,"
            + " {} parameters; {} pooling{}, max {} tokens; {} ms",
        onnxFile, target, config.numLayers(), config.hiddenSize(), config.numHeads(), config.intermediateSize(),
        config.activation().configName(), config.layerNormEps(), weights.size(), parameters, options.pooling(),
        options.normalize() ? ", normalized" : "", options.maxSeqLength(), (System.nanoTime() - start) / 1_000_000);
  }

  private static void requireJson(Path file) throws IOException {
    JsonNode tree;
    try {
      tree = JSON.readTree(file.toFile());
    } catch (JsonProcessingException e) {
      throw new ModelFormatException(file, "not valid JSON: " + e.getOriginalMessage(), e);
    }
    if (!tree.isObject()) {
      throw new ModelFormatException(file, "expected a JSON object, as in a Hugging Face tokenizer.json");
    }
  }
}

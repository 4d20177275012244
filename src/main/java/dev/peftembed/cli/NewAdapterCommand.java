package dev.peftembed.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.peftembed.onnx.DefaultModel;
import dev.peftembed.peft.TextPromptInit;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code new-adapter}: a prompt-tuning adapter initialised from text, as PEFT's {@code PromptTuningInit.TEXT} starts
 * one. Deterministic: the same model, text and M give the same file. For demos, tests, and as a training start.
 */
@Command(name = "new-adapter", mixinStandardHelpOptions = true,
    description = {"Write a PEFT prompt-tuning adapter whose virtual tokens are the word embeddings of an init text "
        + "(PEFT's PromptTuningInit.TEXT), in PEFT's save_pretrained layout.",
        "Prints one JSON line: the adapter directory, M and the virtual tokens' ids."})
final class NewAdapterCommand implements Callable<Integer> {
  @Option(names = "--model", paramLabel = "DIR",
      description = "base model directory (default: all-MiniLM-L6-v2, imported on first use)")
  Path model;

  @Option(names = "--virtual-tokens", paramLabel = "M", defaultValue = "8",
      description = "number of virtual tokens (default: ${DEFAULT-VALUE})")
  int virtualTokens;

  @Option(names = "--init-text", paramLabel = "TEXT", defaultValue = "Represent this sentence for retrieval:",
      description = "text whose tokens (special tokens included, repeated or cut to M) start the prompt (default: "
          + "${DEFAULT-VALUE})")
  String initText;

  @Option(names = "--out", required = true, paramLabel = "DIR", description = "adapter directory to create")
  Path out;

  @Option(names = "--overwrite", description = "replace an existing adapter in --out")
  boolean overwrite;

  @Override
  public Integer call() throws IOException {
    if (!overwrite && Files.exists(out.resolve("adapter_config.json"))) {
      throw new IllegalArgumentException(out + " already holds an adapter (pass --overwrite to replace it)");
    }
    long[] ids = TextPromptInit.writeAdapter(model != null ? model : DefaultModel.resolve(), initText,
        virtualTokens, out);
    ObjectMapper json = new ObjectMapper();
    ObjectNode line = json.createObjectNode();
    line.put("adapter", out.toAbsolutePath().toString());
    line.put("num_virtual_tokens", virtualTokens);
    line.put("init_text", initText);
    ArrayNode idArray = line.putArray("token_ids");
    for (long id : ids) {
      idArray.add(id);
    }
    System.out.println(json.writeValueAsString(line));
    return 0;
  }
}

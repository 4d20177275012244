package dev.peftembed.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.peftembed.embed.MaskInspection;
import dev.peftembed.embed.SentenceEncoder;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code inspect}: one text's lengths and pooling masks, and what sentence-transformers' naive pooling would do with
 * them, as one JSON line. For users whose Python pipeline fails with "The expanded size of the tensor (…) must match
 * the existing size (…)".
 */
@Command(name = "inspect", mixinStandardHelpOptions = true,
    description = {"Show how one text's pooling mask is built: real tokens N, virtual tokens M, output length, the "
        + "masks under include and exclude, and libtorch's own verdict on sentence-transformers' "
        + "attention_mask.unsqueeze(-1).expand(token_embeddings.size()) with the N-long mask.",
        "Prints one JSON line."})
final class InspectCommand implements Callable<Integer> {
  /** The line of sentence-transformers' mean pooling that fails on a prompt-tuned model's output. */
  static final String NAIVE_CODE = "attention_mask.unsqueeze(-1).expand(token_embeddings.size())";

  @Mixin
  EncoderFlags flags = new EncoderFlags();

  @Option(names = "--text", required = true, description = "the text to inspect")
  String text;

  @Override
  public Integer call() throws Exception {
    MaskInspection r;
    if (!flags.namedAdapters().isEmpty()) {
      throw new IllegalArgumentException("inspect runs one adapter: give --adapter DIR without a name");
    }
    try (SentenceEncoder encoder = SentenceEncoder.load(flags.modelDir(), flags.singleAdapter(), flags.options())) {
      r = MaskInspection.of(encoder, text);
    }
    ObjectMapper json = new ObjectMapper();
    ObjectNode line = json.createObjectNode();
    line.put("text", text);
    line.put("real_tokens", r.realTokens());
    line.put("virtual_tokens", r.virtualTokens());
    line.put("output_length", r.outputLength());
    line.put("hidden", r.hidden());
    ObjectNode naive = line.putObject("naive_pooling");
    naive.put("code", NAIVE_CODE);
    shape(naive.putArray("mask_shape"), 1, r.realTokens(), 1);
    shape(naive.putArray("target_shape"), 1, r.outputLength(), r.hidden());
    naive.put("ok", r.naiveError() == null);
    naive.put("error", r.naiveError());
    ObjectNode aligned = line.putObject("aligned_pooling");
    aligned.put("policy", r.policy().name().toLowerCase(Locale.ROOT));
    shape(aligned.putArray("mask_shape"), 1, r.outputLength(), 1);
    shape(aligned.putArray("expanded_shape"), r.alignedExpandedShape());
    aligned.put("ok", true);
    if (r.cosineWithEncode() != null) {
      aligned.put("cosine_with_encode", r.cosineWithEncode());
    }
    ObjectNode masks = line.putObject("masks");
    mask(masks.putArray("include"), r.includeMask());
    mask(masks.putArray("exclude"), r.excludeMask());
    System.out.println(json.writeValueAsString(line));
    return 0;
  }

  private static void shape(ArrayNode out, long... dims) {
    for (long d : dims) {
      out.add(d);
    }
  }

  private static void mask(ArrayNode out, float[] values) {
    for (float v : values) {
      out.add((int) v);
    }
  }
}

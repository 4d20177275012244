package dev.peftembed.peft;

import dev.peftembed.model.BertConfig;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The module names of a Hugging Face {@code BertModel}, as {@code model.named_modules()} lists them, with the kind of
 * each: the names PEFT matches {@code target_modules} against. Only {@code torch.nn.Linear} modules carry LoRA here;
 * PEFT refuses any other kind a target selects, except embeddings, which it adapts and we refuse.
 *
 * <p>The tree follows transformers' {@code modeling_bert.py}: {@code BertEmbeddings} (three embedding tables,
 * LayerNorm, dropout), {@code BertEncoder.layer} (a ModuleList of {@code BertLayer}: attention.self.query/key/value,
 * attention.output.dense/LayerNorm, intermediate.dense and its activation module, output.dense/LayerNorm) and
 * {@code BertPooler} (dense, activation). The pooler is listed because sentence-transformers loads it: LoRA on
 * {@code pooler.dense} is accepted and has no effect on the token embeddings that pooling reads. RoBERTa and
 * XLM-RoBERTa have the same tree (modeling_xlm_roberta.py). DistilBERT's follows modeling_distilbert.py:
 * {@code Embeddings} (no token types), {@code transformer.layer} of {@code TransformerBlock}s (attention.dropout,
 * attention.q_lin/k_lin/v_lin/out_lin, sa_layer_norm, ffn.dropout/lin1/lin2/activation, output_layer_norm), no pooler.
 */
final class BertModuleTree {
  /** What a module is, as far as LoRA cares. */
  enum Kind {
    LINEAR,
    EMBEDDING,
    OTHER
  }

  /**
   * @param name the module name, e.g. {@code encoder.layer.0.attention.self.query}
   * @param kind its kind
   * @param in a linear module's input width, else 0
   * @param out a linear module's output width, else 0
   */
  record Module(String name, Kind kind, int in, int out) {}

  /** The module whose LoRA terms never reach the token embeddings. */
  static final String POOLER_DENSE = "pooler.dense";

  private final Map<String, Module> modules;
  private final int hidden;

  private BertModuleTree(Map<String, Module> modules, int hidden) {
    this.modules = modules;
    this.hidden = hidden;
  }

  static BertModuleTree of(BertConfig c) {
    return switch (c.architecture()) {
      case BERT, ROBERTA, XLM_ROBERTA -> bert(c);
      case DISTILBERT -> distilBert(c);
      // LoraAdapter refuses MPNet before asking for its tree.
      case MPNET -> throw new IllegalArgumentException("no LoRA module tree for model_type mpnet");
    };
  }

  private static BertModuleTree distilBert(BertConfig c) {
    int h = c.hiddenSize();
    int i = c.intermediateSize();
    Map<String, Module> m = new LinkedHashMap<>();
    other(m, "embeddings");
    embedding(m, "embeddings.word_embeddings");
    embedding(m, "embeddings.position_embeddings");
    other(m, "embeddings.LayerNorm");
    other(m, "embeddings.dropout");
    other(m, "transformer");
    other(m, "transformer.layer");
    for (int layer = 0; layer < c.numLayers(); layer++) {
      String p = "transformer.layer." + layer;
      other(m, p);
      other(m, p + ".attention");
      other(m, p + ".attention.dropout");
      for (String proj : new String[] {"q_lin", "k_lin", "v_lin", "out_lin"}) {
        linear(m, p + ".attention." + proj, h, h);
      }
      other(m, p + ".sa_layer_norm");
      other(m, p + ".ffn");
      other(m, p + ".ffn.dropout");
      linear(m, p + ".ffn.lin1", h, i);
      linear(m, p + ".ffn.lin2", i, h);
      other(m, p + ".ffn.activation");
      other(m, p + ".output_layer_norm");
    }
    return new BertModuleTree(m, h);
  }

  private static BertModuleTree bert(BertConfig c) {
    int h = c.hiddenSize();
    int i = c.intermediateSize();
    Map<String, Module> m = new LinkedHashMap<>();
    other(m, "embeddings");
    embedding(m, "embeddings.word_embeddings");
    embedding(m, "embeddings.position_embeddings");
    embedding(m, "embeddings.token_type_embeddings");
    other(m, "embeddings.LayerNorm");
    other(m, "embeddings.dropout");
    other(m, "encoder");
    other(m, "encoder.layer");
    for (int layer = 0; layer < c.numLayers(); layer++) {
      String p = "encoder.layer." + layer;
      other(m, p);
      other(m, p + ".attention");
      other(m, p + ".attention.self");
      linear(m, p + ".attention.self.query", h, h);
      linear(m, p + ".attention.self.key", h, h);
      linear(m, p + ".attention.self.value", h, h);
      other(m, p + ".attention.self.dropout");
      other(m, p + ".attention.output");
      linear(m, p + ".attention.output.dense", h, h);
      other(m, p + ".attention.output.LayerNorm");
      other(m, p + ".attention.output.dropout");
      other(m, p + ".intermediate");
      linear(m, p + ".intermediate.dense", h, i);
      other(m, p + ".intermediate.intermediate_act_fn");
      other(m, p + ".output");
      linear(m, p + ".output.dense", i, h);
      other(m, p + ".output.LayerNorm");
      other(m, p + ".output.dropout");
    }
    other(m, "pooler");
    linear(m, POOLER_DENSE, h, h);
    other(m, "pooler.activation");
    return new BertModuleTree(m, h);
  }

  /** @return every module, in {@code named_modules()} order */
  List<Module> modules() {
    return new ArrayList<>(modules.values());
  }

  /** @return the module of that name, or {@code null} */
  Module get(String name) {
    return modules.get(name);
  }

  /**
   * @param parameter a parameter name such as {@code encoder.layer.0.output.LayerNorm.bias}
   * @return the width of that bias, or 0 when the model has no such bias (LayerNorm and linear biases exist)
   */
  int biasWidth(String parameter) {
    if (!parameter.endsWith(".bias")) {
      return 0;
    }
    String owner = parameter.substring(0, parameter.length() - ".bias".length());
    Module module = modules.get(owner);
    if (module == null) {
      return 0;
    }
    if (module.kind() == Kind.LINEAR) {
      return module.out();
    }
    return owner.endsWith("LayerNorm") || owner.endsWith("layer_norm") ? hidden : 0;
  }

  private static void linear(Map<String, Module> m, String name, int in, int out) {
    m.put(name, new Module(name, Kind.LINEAR, in, out));
  }

  private static void embedding(Map<String, Module> m, String name) {
    m.put(name, new Module(name, Kind.EMBEDDING, 0, 0));
  }

  private static void other(Map<String, Module> m, String name) {
    m.put(name, new Module(name, Kind.OTHER, 0, 0));
  }
}

package dev.peftembed.peft;

import dev.peftembed.model.Architecture;
import dev.peftembed.model.BertConfig;
import dev.peftembed.model.Checkpoint;
import dev.peftembed.model.DType;
import dev.peftembed.model.ModelFormatException;
import dev.peftembed.model.SafetensorsFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where a LoRA adapter's tensors are, read from its config and the header of its weights and checked against both
 * and the model: which key holds each adapted module's A, B and LoRA bias, with its rank and scale, and which holds
 * each saved bias. Reads no tensor; {@link LoraAdapter} reads them from here.
 *
 * @param config the adapter's config
 * @param file the adapter's weights, header read
 * @param modules the keys of each module whose term reaches the token embeddings
 * @param biases the key of each saved bias, by the Hugging Face parameter name it replaces
 */
record LoraLayout(LoraConfig config, SafetensorsFile file, List<LoraLayout.ModuleKeys> modules,
    Map<String, String> biases) {
  static final String WEIGHTS = "adapter_model.safetensors";
  private static final String CONFIG = "adapter_config.json";
  private static final String PEFT_PREFIX = "base_model.model.";
  private static final String A = ".lora_A.weight";
  private static final String B = ".lora_B.weight";
  private static final String B_BIAS = ".lora_B.bias";
  private static final String BASE_BIAS = ".base_layer.bias";

  /** The keys of one adapted module, and its rank and scale from the config. */
  record ModuleKeys(String module, String a, String b, String bBias, int rank, double scale) {}

  /** Keys of one module as found in the file, before they are checked. */
  private static final class Found {
    String a;
    String b;
    String bBias;
  }

  /**
   * @throws ModelFormatException one line naming the file and the key or field at fault
   */
  static LoraLayout read(Path adapterDir, BertConfig base) {
    if (!Files.isDirectory(adapterDir)) {
      throw new ModelFormatException(adapterDir, "adapter directory not found (expected a PEFT adapter saved with "
          + "save_pretrained: adapter_config.json and adapter_model.safetensors)");
    }
    LoraConfig config = LoraConfig.read(adapterDir.resolve(CONFIG));
    Path weights = adapterDir.resolve(WEIGHTS);
    if (!Files.isRegularFile(weights)) {
      throw new ModelFormatException(adapterDir, Checkpoint.noSafetensorsMessage(adapterDir, "adapter"));
    }
    if (base.architecture() == Architecture.MPNET) {
      throw new ModelFormatException(adapterDir.resolve(CONFIG), "peft_type LORA is not supported on model_type "
          + "mpnet yet (PROMPT_TUNING and P_TUNING are)");
    }
    SafetensorsFile file = SafetensorsFile.open(weights);
    BertModuleTree tree = BertModuleTree.of(base);
    List<String> selected = selectedModules(config, tree);

    Map<String, Found> found = new LinkedHashMap<>();
    Map<String, String> biases = new LinkedHashMap<>();
    for (String key : file.names()) {
      String name = key.startsWith(PEFT_PREFIX) ? key.substring(PEFT_PREFIX.length()) : key;
      if (name.endsWith(A)) {
        found.computeIfAbsent(owner(name, A), k -> new Found()).a = key;
      } else if (name.endsWith(B)) {
        found.computeIfAbsent(owner(name, B), k -> new Found()).b = key;
      } else if (name.endsWith(B_BIAS)) {
        found.computeIfAbsent(owner(name, B_BIAS), k -> new Found()).bBias = key;
      } else if (name.endsWith(BASE_BIAS)) {
        String module = owner(name, BASE_BIAS);
        if (!selected.contains(module)) {
          throw new ModelFormatException(weights, "tensor \"" + key + "\" is the bias of " + module
              + ", which target_modules " + config.targets() + " does not adapt");
        }
        biases.put(module + ".bias", checkedBias(file, key, module + ".bias", tree));
      } else if (name.endsWith(".bias") && !name.contains(".lora_")) {
        String module = owner(name, ".bias");
        if (selected.contains(module)) {
          throw new ModelFormatException(weights, "tensor \"" + key + "\" names the bias of the adapted module "
              + module + " without .base_layer, which PEFT's loader ignores (expected " + module + BASE_BIAS + ")");
        }
        biases.put(name, checkedBias(file, key, name, tree));
      } else {
        throw new ModelFormatException(weights, "tensor \"" + key + "\" " + unknownKeyReason(name));
      }
    }

    List<ModuleKeys> modules = new ArrayList<>();
    for (Map.Entry<String, Found> e : found.entrySet()) {
      String module = e.getKey();
      Found f = e.getValue();
      String anyKey = f.a != null ? f.a : f.b != null ? f.b : f.bBias;
      BertModuleTree.Module target = tree.get(module);
      if (target == null || target.kind() != BertModuleTree.Kind.LINEAR) {
        throw new ModelFormatException(weights, "tensor \"" + anyKey + "\" names no linear module of the model ("
            + module + "; expected e.g. encoder.layer.0.attention.self.query)");
      }
      if (!selected.contains(module)) {
        throw new ModelFormatException(weights, "tensor \"" + anyKey + "\" is for " + module + ", which "
            + "target_modules " + config.targets() + " does not adapt");
      }
    }
    for (String module : selected) {
      Found f = found.get(module);
      boolean pooler = module.equals(BertModuleTree.POOLER_DENSE);
      if (f == null && pooler) {
        continue;
      }
      if (f == null || f.a == null || f.b == null) {
        String missing = f == null || f.a == null ? A : B;
        throw new ModelFormatException(weights, "missing tensor \"" + module + missing + "\": target_modules "
            + config.targets() + " adapts " + module);
      }
      if (config.loraBias() != (f.bBias != null)) {
        throw new ModelFormatException(weights, config.loraBias()
            ? "missing tensor \"" + module + B_BIAS + "\": adapter_config.json sets lora_bias"
            : "tensor \"" + f.bBias + "\" is a LoRA bias but adapter_config.json does not set lora_bias");
      }
      BertModuleTree.Module target = tree.get(module);
      int rank = LoraTargets.patternValue(config.rankPattern(), module, config.r());
      double alpha = LoraTargets.patternValue(config.alphaPattern(), module, config.alpha());
      checkShape(file, f.a, rank, target.in());
      checkShape(file, f.b, target.out(), rank);
      if (f.bBias != null) {
        checkShape(file, f.bBias, target.out());
      }
      if (!pooler) {
        modules.add(new ModuleKeys(module, f.a, f.b, f.bBias, rank, config.scale(rank, alpha)));
      }
    }
    return new LoraLayout(config, file, List.copyOf(modules), biases);
  }

  /**
   * The modules PEFT would wrap: every module name that {@code check_target_module_exists} selects. PEFT refuses a
   * selected module it cannot adapt (peft/tuners/lora/model.py:435-440) and a config that selects nothing
   * (peft/tuners/tuners_utils.py:1003-1011); so do we, and embeddings, which PEFT adapts, are refused too.
   */
  private static List<String> selectedModules(LoraConfig config, BertModuleTree tree) {
    LoraTargets targets = new LoraTargets(config, tree);
    List<String> selected = new ArrayList<>();
    for (BertModuleTree.Module m : tree.modules()) {
      if (!targets.selects(m.name())) {
        continue;
      }
      switch (m.kind()) {
        case LINEAR -> selected.add(m.name());
        case EMBEDDING -> throw new ModelFormatException(config.file(), "target_modules " + config.targets()
            + " selects the embedding " + m.name() + ": LoRA on embeddings is not supported (linear layers only)");
        case OTHER -> throw new ModelFormatException(config.file(), "target_modules " + config.targets()
            + " selects " + m.name() + ", which is not a linear layer (PEFT refuses it too)");
      }
    }
    if (selected.isEmpty()) {
      String layers = config.layersToTransform() == null ? "" : " in layers_to_transform "
          + config.layersToTransform();
      throw new ModelFormatException(config.file(), "target_modules " + config.targets() + " matches no module of "
          + "the model" + layers + " (a list matches module names and their dot-separated suffixes, e.g. query or "
          + "attention.output.dense; a string is a regex matched against whole names)");
    }
    return selected;
  }

  private static String owner(String name, String suffix) {
    return name.substring(0, name.length() - suffix.length());
  }

  private static String unknownKeyReason(String name) {
    if (name.contains("lora_magnitude_vector")) {
      return "is a DoRA magnitude: DoRA is not supported";
    }
    if (name.contains("lora_embedding_")) {
      return "is LoRA on an embedding: LoRA on embeddings is not supported (linear layers only)";
    }
    if (name.contains(".lora_A.") || name.contains(".lora_B.")) {
      return "carries an adapter name (PEFT's save_pretrained writes <module>.lora_A.weight, without it): save the "
          + "adapter with save_pretrained";
    }
    return "is not a LoRA weight or a bias (expected <module>.lora_A.weight, <module>.lora_B.weight, "
        + "<module>.lora_B.bias or <module>.bias)";
  }

  /** @return {@code key}, once its header says a bias of the width the model's {@code parameter} has */
  private static String checkedBias(SafetensorsFile file, String key, String parameter, BertModuleTree tree) {
    int width = tree.biasWidth(parameter);
    if (width == 0) {
      throw new ModelFormatException(file.path(), "tensor \"" + key + "\" names no bias of the model ("
          + parameter + ")");
    }
    checkShape(file, key, width);
    return key;
  }

  private static void checkShape(SafetensorsFile file, String key, long... expected) {
    SafetensorsFile.Entry entry = file.entry(key);
    if (!Arrays.equals(entry.shape(), expected)) {
      throw new ModelFormatException(file.path(), "tensor \"" + key + "\" has shape " + Arrays.toString(entry.shape())
          + " but the model and adapter_config.json imply " + Arrays.toString(expected));
    }
    if (DType.fromHeader(entry.dtype()).isEmpty()) {
      throw new ModelFormatException(file.path(), "tensor \"" + key + "\" has dtype " + entry.dtype()
          + "; expected F32, F16, BF16 or F64");
    }
  }
}

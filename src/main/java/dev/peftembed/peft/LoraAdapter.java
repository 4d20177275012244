package dev.peftembed.peft;

import dev.peftembed.encoder.WeightOverlay;
import dev.peftembed.model.Architecture;
import dev.peftembed.model.BertConfig;
import dev.peftembed.model.Checkpoint;
import dev.peftembed.model.DType;
import dev.peftembed.model.ModelFormatException;
import dev.peftembed.model.SafetensorsFile;
import dev.peftembed.model.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A LoRA adapter for a BERT-family encoder: the low-rank term of every adapted linear module ({@link LoraModule}) and
 * the biases the adapter saved, read from PEFT's {@code save_pretrained} layout.
 *
 * <p>Keys come in two layouts: {@code base_model.model.encoder.layer.0.attention.self.query.lora_A.weight} from
 * {@code PeftModel.save_pretrained}, and the same without {@code base_model.model.} from transformers' adapter
 * integration (which sentence-transformers uses). PEFT's saver drops the adapter name from every key
 * (peft/utils/save_and_load.py:470-505, {@code remove_adapter_name}), so {@code lora_A.default.weight} is never
 * written by it; its loader would insert the name a second time (save_and_load.py:536-552) and ignore the weight, so
 * such a key is refused rather than silently dropped.
 *
 * <p>Biases: with {@code bias="all"} PEFT saves every parameter whose name holds "bias" (save_and_load.py:174-175):
 * an adapted module's own bias as {@code <module>.base_layer.bias}, the others as {@code <module>.bias}; loading
 * puts them in place of the base model's. With {@code bias="lora_only"} it looks for {@code <module>.bias} of the
 * adapted modules (save_and_load.py:176-183), a name the wrapped modules no longer have, so nothing is saved. Here
 * every saved bias replaces the base model's, whatever {@code bias} says, as PEFT's loader does.
 */
public final class LoraAdapter {
  static final String WEIGHTS = "adapter_model.safetensors";
  private static final String CONFIG = "adapter_config.json";
  private static final String PEFT_PREFIX = "base_model.model.";
  private static final String A = ".lora_A.weight";
  private static final String B = ".lora_B.weight";
  private static final String B_BIAS = ".lora_B.bias";
  private static final String BASE_BIAS = ".base_layer.bias";

  private final Path directory;
  private final LoraConfig config;
  private final Map<String, LoraModule> modules;
  private final Map<String, Tensor> biases;

  private LoraAdapter(Path directory, LoraConfig config, Map<String, LoraModule> modules, Map<String, Tensor> biases) {
    this.directory = directory;
    this.config = config;
    this.modules = modules;
    this.biases = biases;
  }

  /** @return whether {@code config} describes a LoRA adapter */
  public static boolean isLora(AdapterConfig config) {
    return config != null && LoraConfig.PEFT_TYPE.equals(config.peftType());
  }

  /**
   * Checks a LoRA adapter against the base model from its config and the header of its weights (never the weights):
   * what a Spark driver checks before any task runs.
   *
   * @param baseModelDir the base model directory, to warn when the adapter names another model
   * @return the adapter's config as the encoder plan records it: no virtual tokens
   * @throws ModelFormatException one line naming the file and the key or field at fault
   */
  public static AdapterConfig validate(Path adapterDir, BertConfig base, Path baseModelDir) {
    Layout layout = layout(adapterDir, base);
    AdapterConfig planned = new AdapterConfig(layout.config().file(), LoraConfig.PEFT_TYPE, 0, base.hiddenSize(), 1,
        layout.config().baseModelNameOrPath());
    PromptAdapter.warnOnBaseMismatch(planned, base, baseModelDir);
    return planned;
  }

  /**
   * Loads a LoRA adapter for {@code base}: checks it as {@link #validate} does, then reads its tensors.
   *
   * @throws ModelFormatException one line naming the file and the key or field at fault
   */
  public static LoraAdapter load(Path adapterDir, BertConfig base) {
    Layout layout = layout(adapterDir, base);
    SafetensorsFile file = layout.file();
    Map<String, LoraModule> modules = new LinkedHashMap<>();
    for (ModuleKeys k : layout.modules()) {
      modules.put(k.module(), new LoraModule(k.module(), file.read(k.a()), file.read(k.b()),
          k.bBias() == null ? null : file.read(k.bBias()), k.scale()));
    }
    Map<String, Tensor> biases = new LinkedHashMap<>();
    layout.biases().forEach((parameter, key) -> biases.put(parameter, file.read(key)));
    return new LoraAdapter(adapterDir, layout.config(), modules, biases);
  }

  /** @return the adapter directory */
  public Path directory() {
    return directory;
  }

  /** @return the adapter's config */
  public LoraConfig config() {
    return config;
  }

  /** @return the low-rank term of each adapted module that reaches the token embeddings, by module name */
  public Map<String, LoraModule> modules() {
    return modules;
  }

  /** @return the saved biases, by Hugging Face parameter name, that replace the base model's */
  public Map<String, Tensor> biases() {
    return biases;
  }

  /**
   * The adapter merged into the base weights as they load: W + scale·B·A and b + scale·b_B, with saved biases in
   * place of the stored ones. Merging happens in float32 before the encoder fuses Q/K/V, folds 1/√d into the query
   * rows or casts to float16, so each term lands in its module's rows with the same fold; a batch then costs what
   * the base model costs.
   */
  public WeightOverlay merged() {
    return (name, stored) -> {
      int dot = name.lastIndexOf('.');
      LoraModule m = modules.get(name.substring(0, dot));
      Tensor saved = biases.get(name);
      float[] values = saved == null ? stored.data() : saved.data();
      float[] delta = m == null ? null : name.endsWith(".weight") ? m.weightDelta() : m.biasDelta();
      if (delta == null) {
        return saved == null ? stored : new Tensor(name, stored.shape(), values.clone());
      }
      float[] sum = new float[values.length];
      for (int i = 0; i < sum.length; i++) {
        sum[i] = values[i] + delta[i];
      }
      return new Tensor(name, stored.shape(), sum);
    };
  }

  /** The keys of one adapted module, and its rank and scale from the config. */
  private record ModuleKeys(String module, String a, String b, String bBias, int rank, double scale) {}

  /** What the config and the header say, checked against each other and the model. */
  private record Layout(LoraConfig config, SafetensorsFile file, List<ModuleKeys> modules,
      Map<String, String> biases) {}

  /** Keys of one module as found in the file, before they are checked. */
  private static final class Found {
    String a;
    String b;
    String bBias;
  }

  private static Layout layout(Path adapterDir, BertConfig base) {
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
    return new Layout(config, file, List.copyOf(modules), biases);
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

package dev.peftembed.peft;

import dev.peftembed.encoder.LowRankUpdate;
import dev.peftembed.encoder.WeightDelta;
import dev.peftembed.encoder.WeightOverlay;
import dev.peftembed.model.BertConfig;
import dev.peftembed.model.Checkpoint;
import dev.peftembed.model.ModelFormatException;
import dev.peftembed.model.SafetensorsFile;
import dev.peftembed.model.Tensor;
import java.nio.file.Path;
import java.util.LinkedHashMap;
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
    LoraLayout layout = LoraLayout.read(adapterDir, base);
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
    LoraLayout layout = LoraLayout.read(adapterDir, base);
    SafetensorsFile file = layout.file();
    Map<String, LoraModule> modules = new LinkedHashMap<>();
    for (LoraLayout.ModuleKeys k : layout.modules()) {
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

  /**
   * The adapter as a delta to apply to each of its batches, leaving the base weights shared: every module's A, B and
   * scale, and every bias shift, the saved bias less the base model's plus scale·b_B. Applied by the encoder with the
   * same fused layout and 1/√d fold as {@link #merged()}.
   *
   * @param base the base model's checkpoint, whose biases the saved ones replace
   */
  public WeightDelta delta(Checkpoint base) {
    Map<String, LowRankUpdate> lowRank = new LinkedHashMap<>();
    Map<String, float[]> shifts = new LinkedHashMap<>();
    biases.forEach((name, saved) -> {
      if (name.startsWith(BertModuleTree.POOLER_DENSE)) {
        // sentence-transformers pools the token embeddings: the pooler, which a model may not even hold, is unused.
        return;
      }
      float[] stored = base.read(name, saved.shape()).data();
      float[] shift = new float[stored.length];
      for (int i = 0; i < shift.length; i++) {
        shift[i] = saved.data()[i] - stored[i];
      }
      shifts.put(name, shift);
    });
    modules.forEach((name, m) -> {
      lowRank.put(name, new LowRankUpdate(m.a(), m.b(), m.scale()));
      float[] loraBias = m.biasDelta();
      if (loraBias != null) {
        shifts.merge(name + ".bias", loraBias, (x, y) -> {
          float[] sum = x.clone();
          for (int i = 0; i < sum.length; i++) {
            sum[i] += y[i];
          }
          return sum;
        });
      }
    });
    return new WeightDelta(Map.copyOf(lowRank), Map.copyOf(shifts));
  }
}

package dev.peftembed.peft;

import dev.peftembed.peft.LoraConfig.Targets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which modules a LoRA config adapts, and with which rank and alpha: PEFT 0.20's rules, ported line by line.
 *
 * <ul>
 *   <li>{@link #selects}: {@code check_target_module_exists}, peft/tuners/tuners_utils.py:1894-1962.
 *   <li>{@link #patternValue}: {@code get_pattern_key}, peft/utils/other.py:1512-1520, as
 *       {@code LoraModel._create_and_replace} uses it for {@code rank_pattern} and {@code alpha_pattern}
 *       (peft/tuners/lora/model.py:217-220).
 * </ul>
 *
 * Python's {@code re} and {@code java.util.regex} agree on the patterns these rules build and on the usual patterns
 * in configs (alternation, classes, quantifiers, anchors); {@code re.match} is {@link Matcher#lookingAt} and
 * {@code re.fullmatch} is {@link Matcher#matches}.
 */
final class LoraTargets {
  /** peft/tuners/tuners_utils.py:1949: the first numbered segment after some name is the layer index. */
  private static final Pattern ANY_LAYER = Pattern.compile(".*?\\.[^.]*\\.(\\d+)\\.");

  private final LoraConfig config;
  private final List<String> linearNames;
  private final List<Pattern> layerPatterns;

  /**
   * @param config the adapter's config
   * @param tree the model's modules: {@code all-linear} stands for all its linear ones
   */
  LoraTargets(LoraConfig config, BertModuleTree tree) {
    this.config = config;
    List<String> linear = new ArrayList<>();
    for (BertModuleTree.Module m : tree.modules()) {
      if (m.kind() == BertModuleTree.Kind.LINEAR) {
        linear.add(m.name());
      }
    }
    this.linearNames = List.copyOf(linear);
    List<Pattern> patterns = new ArrayList<>();
    if (config.layersPattern() != null) {
      for (String p : config.layersPattern()) {
        // peft/tuners/tuners_utils.py:1953: the pattern is spliced into the regex unescaped
        patterns.add(LoraConfig.regex(".*?\\." + p + "\\.(\\d+)\\.", "layers_pattern", config.file()));
      }
    }
    this.layerPatterns = List.copyOf(patterns);
  }

  /** @return whether PEFT wraps the module {@code key} with this adapter's LoRA layer */
  boolean selects(String key) {
    if (excluded(key)) {
      return false;
    }
    Targets t = config.targets();
    if (t.allLinear()) {
      // peft/tuners/tuners_utils.py:1983-2042: all-linear becomes the set of the linear modules' full names, which
      // then match exactly (the branch below that skips the layer filter)
      return linearNames.contains(key);
    }
    if (t.regex() != null) {
      // peft/utils/other.py:1504-1509, match_target_against_key: re.fullmatch
      return t.regex().matcher(key).matches();
    }
    if (t.names().contains(key)) {
      return true;
    }
    boolean found = false;
    for (String name : t.names()) {
      found |= key.endsWith("." + name);
    }
    List<Integer> layers = config.layersToTransform();
    if (!found || layers == null || layers.isEmpty()) {
      return found;
    }
    Integer index = layerIndex(key);
    return index != null && layers.contains(index);
  }

  /** peft/tuners/tuners_utils.py:1908-1914: exclude_modules, a full-match regex or names and suffixes. */
  private boolean excluded(String key) {
    Targets ex = config.excludeModules();
    if (ex == null) {
      return false;
    }
    if (ex.regex() != null) {
      return ex.regex().matcher(key).matches();
    }
    if (ex.allLinear()) {
      return false;
    }
    for (String name : ex.names()) {
      if (key.equals(name) || key.endsWith("." + name)) {
        return true;
      }
    }
    return false;
  }

  /** peft/tuners/tuners_utils.py:1945-1956: the layer index, by the configured patterns or the generic one. */
  private Integer layerIndex(String key) {
    List<Pattern> patterns = layerPatterns.isEmpty() ? List.of(ANY_LAYER) : layerPatterns;
    for (Pattern p : patterns) {
      Matcher m = p.matcher(key);
      if (m.lookingAt()) {
        return Integer.valueOf(m.group(1));
      }
    }
    return null;
  }

  /**
   * {@code get_pattern_key}: the first key of the pattern, in file order, for which
   * {@code re.match(rf"(.*\.)?({key})$", module)} succeeds; {@code fallback} when none does. PEFT 0.14 matched
   * {@code rf".*\.{key}$"} (other.py:724-726 at v0.14.0), which differs for a key that spells the module's whole
   * name or holds a top-level {@code |}; 0.15 and later match as here.
   */
  static <T> T patternValue(Map<String, T> pattern, String module, T fallback) {
    for (Map.Entry<String, T> e : pattern.entrySet()) {
      if (Pattern.compile("(.*\\.)?(" + e.getKey() + ")$").matcher(module).lookingAt()) {
        return e.getValue();
      }
    }
    return fallback;
  }
}

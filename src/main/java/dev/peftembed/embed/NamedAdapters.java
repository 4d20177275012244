package dev.peftembed.embed;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The adapters of a many-adapter job, from their {@code NAME=DIR} specs (the {@code --adapter} flag, the stage's
 * {@code adapters} param): each row picks one by name, and a row without a name gets the base model.
 */
public final class NamedAdapters {
  /** How the error of a row naming an undeclared adapter begins. */
  public static final String UNKNOWN = "unknown adapter \"";

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");

  private NamedAdapters() {}

  /** @return whether {@code spec} names its adapter ({@code NAME=DIR}) rather than being a bare directory */
  public static boolean isNamed(String spec) {
    int eq = spec.indexOf('=');
    return eq > 0 && NAME.matcher(spec.substring(0, eq)).matches();
  }

  /**
   * @param specs {@code NAME=DIR} each, names unique
   * @return the directories by name, in the order given
   * @throws IllegalArgumentException in one line, for a spec that is not {@code NAME=DIR} or a repeated name
   */
  public static Map<String, String> parse(List<String> specs) {
    Map<String, String> out = new LinkedHashMap<>();
    for (String spec : specs) {
      int eq = spec.indexOf('=');
      if (!isNamed(spec) || eq == spec.length() - 1) {
        throw new IllegalArgumentException("adapter \"" + spec + "\": expected NAME=DIR, NAME of letters, digits, "
            + "'.', '_' and '-' (a single adapter for every row may be given as a bare DIR)");
      }
      String name = spec.substring(0, eq);
      if (out.put(name, spec.substring(eq + 1)) != null) {
        throw new IllegalArgumentException("adapter name \"" + name + "\" is given twice; each name must be unique");
      }
    }
    return Collections.unmodifiableMap(out);
  }

  /** @return the error of a row naming an adapter that the job did not declare */
  static String unknown(String name, Set<String> declared) {
    return UNKNOWN + name + "\" (declared: " + String.join(", ", declared) + "; no name for the base "
        + "model)";
  }
}

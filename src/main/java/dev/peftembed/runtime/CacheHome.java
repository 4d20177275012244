package dev.peftembed.runtime;

import java.nio.file.Path;

/**
 * Where peft-embed keeps what it unpacks and imports (libtorch, the default model, copied model directories): the
 * same place for {@code scripts/peft-embed}, the tests and any application that uses the Spark stage.
 */
public final class CacheHome {
  /** The system property that names the cache home; the scripts pass it to every JVM. */
  public static final String PROPERTY = "peftembed.home";

  /** The environment variable that names the cache home, as {@code scripts/lib/env.sh} reads it. */
  public static final String ENV = "PEFT_EMBED_HOME";

  private CacheHome() {}

  /** @return {@code -Dpeftembed.home}, else {@code $PEFT_EMBED_HOME}, else {@code ~/.cache/peft-embed} */
  public static Path get() {
    return resolve(System.getProperty(PROPERTY), System.getenv(ENV), System.getProperty("user.home"));
  }

  /**
   * The rule of {@link #get()}, on explicit inputs.
   *
   * @param property the system property's value, or {@code null}
   * @param env the environment variable's value, or {@code null}
   * @param userHome the user's home directory
   * @return the first of property and env that is not blank, else {@code userHome/.cache/peft-embed}
   */
  public static Path resolve(String property, String env, String userHome) {
    if (property != null && !property.isBlank()) {
      return Path.of(property);
    }
    if (env != null && !env.isBlank()) {
      return Path.of(env);
    }
    return Path.of(userHome, ".cache", "peft-embed");
  }
}

package dev.peftembed.runtime;

import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Points DJL's and JNA's native caches into the cache home, as {@code scripts/lib/env.sh} does for the scripts. An
 * application that uses the Spark stage passes no such flags, and DJL would otherwise unpack a second libtorch (about
 * 450 MB) into {@code ~/.djl.ai}. DJL reads {@code DJL_CACHE_DIR} when the engine starts, so this runs before.
 */
final class NativeCache {
  /** DJL's cache directory: an environment variable or a system property; the environment wins. */
  static final String DJL_CACHE_DIR = "DJL_CACHE_DIR";

  /** Where JNA unpacks its native library, else into {@code java.io.tmpdir}. */
  static final String JNA_TMPDIR = "jna.tmpdir";

  private static final Logger LOG = LoggerFactory.getLogger(NativeCache.class);

  private NativeCache() {}

  /** Sets the caches that the user left unset. */
  static synchronized void apply() {
    Path home = CacheHome.get();
    String djl = djlCacheDir(System.getenv(DJL_CACHE_DIR), System.getProperty(DJL_CACHE_DIR), home);
    if (djl != null) {
      System.setProperty(DJL_CACHE_DIR, djl);
      LOG.debug("DJL_CACHE_DIR unset: libtorch is unpacked into {}", djl);
    }
    if (isBlank(System.getProperty(JNA_TMPDIR))) {
      System.setProperty(JNA_TMPDIR, home.resolve("jna").toString());
    }
  }

  /**
   * The rule of {@link #apply()}, on explicit inputs.
   *
   * @param env {@code $DJL_CACHE_DIR}, or {@code null}
   * @param property {@code -DDJL_CACHE_DIR}, or {@code null}
   * @param home the cache home
   * @return the directory to set, or {@code null} when the user chose one (DJL, too, ignores empty values)
   */
  static String djlCacheDir(String env, String property, Path home) {
    return isBlank(env) && isBlank(property) ? home.resolve("djl").toString() : null;
  }

  private static boolean isBlank(String s) {
    return s == null || s.isEmpty();
  }
}

package dev.peftembed.runtime;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;

/**
 * The one way into DJL's engines, and the place that readies DJL for them ({@link #prepare()}). Without offline
 * mode DJL downloads native libraries (libtorch, tokenizers) from the internet when the jars on the classpath do not
 * match the machine; a job must never fetch code at run time, so offline mode is set here, in the JVM that loads
 * natives (driver and every executor alike), not left to command-line flags that an embedding application may not
 * pass. The native caches and the CUDA probe's logging are settled here for the same reason.
 */
public final class DjlRuntime {
  /** DJL's system property for offline mode. */
  public static final String OFFLINE_PROPERTY = "ai.djl.offline";

  /** DJL's environment variable for offline mode; DJL lets it win over the system property. */
  public static final String OFFLINE_ENV = "DJL_OFFLINE";

  private DjlRuntime() {}

  /**
   * Readies DJL before anything loads natives: offline mode, the native caches under the cache home unless the user
   * set them ({@link NativeCache}), and a quiet CUDA probe on machines without a GPU ({@link CudaProbeLog}).
   *
   * @throws IllegalArgumentException if the environment asks DJL to go online, which the property cannot override
   */
  public static void prepare() {
    enforceOffline();
    NativeCache.apply();
    CudaProbeLog.quietWithoutGpu();
  }

  private static void enforceOffline() {
    String env = System.getenv(OFFLINE_ENV);
    if (env != null && !Boolean.parseBoolean(env.trim())) {
      throw new IllegalArgumentException("environment variable " + OFFLINE_ENV + "=" + env + " would let DJL "
          + "download native libraries at run time; peft-embed runs offline: unset it");
    }
    System.setProperty(OFFLINE_PROPERTY, "true");
  }

  /** @return the PyTorch engine, loaded offline, its natives in the cache home */
  public static Engine pytorch() {
    prepare();
    return Engine.getEngine("PyTorch");
  }

  /**
   * Sets how many threads libtorch splits each operation over, for the operations the calling thread runs from now
   * on. Threads that already ran libtorch operations keep their own setting; libtorch gives this one to threads that
   * run their first operation later.
   */
  public static void computeThreads(int threads) {
    pytorch();
    JniUtils.setNumThreads(threads);
  }
}

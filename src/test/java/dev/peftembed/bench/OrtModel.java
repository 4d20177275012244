package dev.peftembed.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.peftembed.text.TokenizedText;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The original all-MiniLM-L6-v2 ONNX export on ONNX Runtime, with the mean pooling and normalization of
 * sentence-transformers done in Java: the engine of systems c and d, shared by both.
 */
final class OrtModel implements AutoCloseable {
  /** The ONNX export inside the default model's Maven artifact. */
  static final String ONNX_RESOURCE = "all-minilm-l6-v2.onnx";

  private final OrtEnvironment env = OrtEnvironment.getEnvironment();
  private final OrtSession.SessionOptions options;
  private final OrtSession session;
  private final boolean takesTypeIds;

  private OrtModel(OrtSession.SessionOptions options, OrtSession session) throws OrtException {
    this.options = options;
    this.session = session;
    this.takesTypeIds = session.getInputNames().contains("token_type_ids");
  }

  /**
   * Opens the export with every graph optimization and one intra-op thread per core, ORT's best CPU setting for a
   * single caller.
   */
  static OrtModel load() {
    try (InputStream in = OrtModel.class.getClassLoader().getResourceAsStream(ONNX_RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(ONNX_RESOURCE + " is not on the classpath");
      }
      byte[] model = in.readAllBytes();
      OrtSession.SessionOptions options = new OrtSession.SessionOptions();
      options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
      options.setIntraOpNumThreads(Runtime.getRuntime().availableProcessors());
      return new OrtModel(options, OrtEnvironment.getEnvironment().createSession(model, options));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + ONNX_RESOURCE, e);
    } catch (OrtException e) {
      throw new IllegalStateException("ONNX Runtime cannot load " + ONNX_RESOURCE + ": " + e.getMessage(), e);
    }
  }

  /** Encodes one batch, padded to its longest text; returns one unit vector per row. */
  float[][] embed(List<TokenizedText> rows) {
    int batch = rows.size();
    int padded = 0;
    for (TokenizedText t : rows) {
      padded = Math.max(padded, t.length());
    }
    long[] ids = new long[batch * padded];
    long[] types = new long[batch * padded];
    long[] mask = new long[batch * padded];
    for (int b = 0; b < batch; b++) {
      TokenizedText t = rows.get(b);
      System.arraycopy(t.ids(), 0, ids, b * padded, t.length());
      System.arraycopy(t.typeIds(), 0, types, b * padded, t.length());
      Arrays.fill(mask, b * padded, b * padded + t.length(), 1L);
    }
    long[] shape = {batch, padded};
    Map<String, OnnxTensor> inputs = new HashMap<>();
    try {
      inputs.put("input_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(ids), shape));
      inputs.put("attention_mask", OnnxTensor.createTensor(env, LongBuffer.wrap(mask), shape));
      if (takesTypeIds) {
        inputs.put("token_type_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(types), shape));
      }
      try (OrtSession.Result result = session.run(inputs)) {
        FloatBuffer hidden = ((OnnxTensor) result.get(0)).getFloatBuffer();
        return meanPoolNormalized(hidden, rows, padded);
      }
    } catch (OrtException e) {
      throw new IllegalStateException("ONNX Runtime failed on a batch of " + batch + " x " + padded + ": "
          + e.getMessage(), e);
    } finally {
      inputs.values().forEach(OnnxTensor::close);
    }
  }

  /** sentence-transformers' mean pooling over the real tokens, then L2 normalization. */
  private static float[][] meanPoolNormalized(FloatBuffer hidden, List<TokenizedText> rows, int padded) {
    int width = hidden.capacity() / (rows.size() * padded);
    float[][] out = new float[rows.size()][width];
    for (int b = 0; b < rows.size(); b++) {
      int n = rows.get(b).length();
      float[] v = out[b];
      for (int t = 0; t < n; t++) {
        int base = (b * padded + t) * width;
        for (int h = 0; h < width; h++) {
          v[h] += hidden.get(base + h);
        }
      }
      double norm = 0;
      for (int h = 0; h < width; h++) {
        v[h] /= n;
        norm += (double) v[h] * v[h];
      }
      float scale = (float) (1.0 / Math.max(Math.sqrt(norm), 1e-12));
      for (int h = 0; h < width; h++) {
        v[h] *= scale;
      }
    }
    return out;
  }

  @Override
  public void close() {
    try {
      session.close();
      options.close();
    } catch (OrtException e) {
      throw new IllegalStateException("closing the ONNX Runtime session failed: " + e.getMessage(), e);
    }
  }
}

package dev.peftembed.encoder;

import ai.djl.ndarray.NDArray;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValue;
import ai.djl.pytorch.jni.JniUtils;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * libtorch's fused {@code scaled_dot_product_attention}, which DJL's NDArray API lacks, reached through a one-line
 * TorchScript module that this class writes in memory. The fused kernel never builds the [B, heads, L, L] score and
 * probability tensors, nor copies q, k and v into contiguous batches: on CPU it works through cache-sized blocks of
 * keys, on CUDA it picks a flash or memory-efficient kernel.
 *
 * <p>The archive holds TorchScript source, compiled by libtorch when it loads, and no data: nothing is unpickled
 * but the module's own two-field state written here.
 */
public final class ScaledDotProductAttention {
  private static final String ROOT = "sdpa/";
  /**
   * The scale is 1 because 1/√d is folded into the query weights at load time; dropout is off at inference. The
   * mask is added to the scores, as our additive mask bias expects.
   */
  private static final String SOURCE = """
      class ScaledDotProductAttention(Module):
        __parameters__ = []
        __buffers__ = []
        training : bool
        def forward(self: __torch__.ScaledDotProductAttention,
          q: Tensor,
          k: Tensor,
          v: Tensor,
          mask: Tensor) -> Tensor:
          return torch.scaled_dot_product_attention(q, k, v, mask, 0., False, scale=1.)
      """;
  private static final byte[] EMPTY_TUPLE = {(byte) 0x80, 2, ')', '.'};

  private final PtSymbolBlock module;

  private ScaledDotProductAttention(PtSymbolBlock module) {
    this.module = module;
  }

  /** Compiles the module onto the manager's device; it is freed with the manager. */
  public static ScaledDotProductAttention load(PtNDManager manager) {
    try (ByteArrayInputStream archive = new ByteArrayInputStream(archive())) {
      return new ScaledDotProductAttention(JniUtils.loadModule(manager, archive, true, false));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot load libtorch's attention kernel", e);
    }
  }

  private static byte[] archive() throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
      put(zip, "data.pkl", state());
      put(zip, "code/__torch__.py", SOURCE.getBytes(StandardCharsets.UTF_8));
      put(zip, "constants.pkl", EMPTY_TUPLE);
      put(zip, "version", "3\n".getBytes(StandardCharsets.US_ASCII));
    }
    return bytes.toByteArray();
  }

  /**
   * The module object in pickle protocol 2: an instance of the class above (GLOBAL, EMPTY_TUPLE, NEWOBJ) whose state
   * is {@code {"training": False}} (EMPTY_DICT, MARK, BINUNICODE, NEWFALSE, SETITEMS, BUILD).
   */
  private static byte[] state() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(0x80);
    out.write(2);
    out.writeBytes("c__torch__\nScaledDotProductAttention\n".getBytes(StandardCharsets.US_ASCII));
    out.writeBytes(new byte[] {')', (byte) 0x81, '}', '(', 'X', 8, 0, 0, 0});
    out.writeBytes("training".getBytes(StandardCharsets.US_ASCII));
    out.writeBytes(new byte[] {(byte) 0x89, 'u', 'b', '.'});
    return out.toByteArray();
  }

  private static void put(ZipOutputStream zip, String name, byte[] content) throws IOException {
    zip.putNextEntry(new ZipEntry(ROOT + name));
    zip.write(content);
    zip.closeEntry();
  }

  /**
   * @param q [b, heads, L, d] queries, already scaled by 1/√d
   * @param k [b, heads, L, d] keys
   * @param v [b, heads, L, d] values
   * @param maskBias [b, 1, 1, L] added to the scores
   * @return [b, heads, L, d] context, allocated from {@code q}'s manager
   */
  public NDArray forward(NDArray q, NDArray k, NDArray v, NDArray maskBias) {
    // Thread-local in libtorch: an optimizing executor would profile and specialize the graph per batch shape.
    JniUtils.setGraphExecutorOptimize(false);
    IValue[] inputs = {ivalue(q), ivalue(k), ivalue(v), ivalue(maskBias)};
    try (IValue out = module.forward(inputs)) {
      return out.toTensor((PtNDManager) q.getManager());
    } finally {
      for (IValue input : inputs) {
        input.close();
      }
    }
  }

  private static IValue ivalue(NDArray array) {
    return IValue.from((PtNDArray) array);
  }
}

package dev.peftembed.model;

import java.nio.ByteBuffer;
import java.util.Locale;
import java.util.Optional;

/** The floating-point storage types a safetensors file may use for weights, and how to widen each to float32. */
public enum DType {
  /** IEEE single precision. */
  F32(4),
  /** IEEE half precision. */
  F16(2),
  /** bfloat16: the top half of a float32. Widened in Java because libtorch's CPU bf16 path aborts the JVM. */
  BF16(2),
  /** IEEE double precision, narrowed to float32. */
  F64(8);

  private final int bytes;

  DType(int bytes) {
    this.bytes = bytes;
  }

  /** @return bytes per element */
  public int bytes() {
    return bytes;
  }

  /** @return the dtype named in a safetensors header, if it is one we read as weights */
  public static Optional<DType> fromHeader(String name) {
    try {
      return Optional.of(valueOf(name.toUpperCase(Locale.ROOT)));
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  /** Reads {@code out.length} little-endian values of this type from {@code in} and widens them to float32. */
  public void read(ByteBuffer in, float[] out) {
    switch (this) {
      case F32 -> in.asFloatBuffer().get(out);
      case F64 -> {
        for (int i = 0; i < out.length; i++) {
          out[i] = (float) in.getDouble();
        }
      }
      case BF16 -> {
        for (int i = 0; i < out.length; i++) {
          out[i] = Float.intBitsToFloat((in.getShort() & 0xffff) << 16);
        }
      }
      case F16 -> {
        for (int i = 0; i < out.length; i++) {
          out[i] = halfToFloat(in.getShort());
        }
      }
    }
  }

  /** IEEE 754 binary16 to binary32, subnormals, infinities and NaN included. */
  static float halfToFloat(short half) {
    int h = half & 0xffff;
    int sign = (h & 0x8000) << 16;
    int exp = (h >>> 10) & 0x1f;
    int mant = h & 0x3ff;
    if (exp == 0x1f) {
      return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
    }
    if (exp == 0) {
      if (mant == 0) {
        return Float.intBitsToFloat(sign);
      }
      // Subnormal half: value = mant * 2^-24, exact in float32.
      float v = mant * 0x1p-24f;
      return sign == 0 ? v : -v;
    }
    return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
  }
}

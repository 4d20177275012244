package dev.peftembed.onnx;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.function.IntConsumer;
import java.util.function.LongConsumer;

/**
 * A minimal reader for the protobuf wire format, enough to walk ONNX files without a protobuf runtime.
 *
 * <p>Usage is a loop over fields: {@link #next()} advances to the next field, {@link #fieldNumber()} says which
 * one it is, and exactly one of the {@code read*} methods or {@link #skip()} consumes its value. Every length is
 * checked against the bytes that remain, so malformed or truncated input raises {@link MalformedProtoException}
 * instead of reading out of bounds or allocating absurd amounts of memory. Length-delimited values are returned as
 * views of the underlying buffer, never copied.
 */
public final class ProtoReader {

  /** Wire type of varint-encoded scalars (int32, int64, enums, bools). */
  public static final int VARINT = 0;
  /** Wire type of 8-byte little-endian scalars (fixed64, double). */
  public static final int FIXED64 = 1;
  /** Wire type of length-prefixed values (bytes, strings, messages, packed repeated scalars). */
  public static final int LENGTH_DELIMITED = 2;
  /** Wire type of 4-byte little-endian scalars (fixed32, float). */
  public static final int FIXED32 = 5;

  private static final int START_GROUP = 3;
  private static final int END_GROUP = 4;

  private final ByteBuffer buf;
  /** Offset of {@link #buf} in the outermost buffer, so error messages point at the real byte. */
  private final long baseOffset;
  private int fieldNumber;
  private int wireType;
  private boolean pending;

  private ProtoReader(ByteBuffer buf, long baseOffset) {
    this.buf = buf.slice().order(ByteOrder.LITTLE_ENDIAN);
    this.baseOffset = baseOffset;
  }

  /**
   * Creates a reader over the remaining bytes of {@code buffer}; the buffer's own position is left untouched.
   *
   * @param buffer the encoded message
   * @return a reader positioned before the first field
   */
  public static ProtoReader of(ByteBuffer buffer) {
    return new ProtoReader(buffer, 0);
  }

  /**
   * Creates a reader over a whole byte array.
   *
   * @param bytes the encoded message
   * @return a reader positioned before the first field
   */
  public static ProtoReader of(byte[] bytes) {
    return of(ByteBuffer.wrap(bytes));
  }

  /**
   * Advances to the next field.
   *
   * @return {@code false} at the end of the message
   * @throws MalformedProtoException if the previous field's value was not consumed, or the tag is invalid
   */
  public boolean next() {
    if (pending) {
      throw malformed("field " + fieldNumber + " was neither read nor skipped");
    }
    if (!buf.hasRemaining()) {
      return false;
    }
    long tag = varint();
    int type = (int) (tag & 7);
    long number = tag >>> 3;
    if (number < 1 || number > 0x1FFF_FFFF) {
      throw malformed("invalid field number " + number);
    }
    if (type != VARINT && type != FIXED64 && type != LENGTH_DELIMITED && type != FIXED32) {
      // Groups are long deprecated and never used by ONNX; meeting one means the input is not ONNX.
      throw malformed(type == START_GROUP || type == END_GROUP
          ? "unsupported group encoding for field " + number
          : "invalid wire type " + type + " for field " + number);
    }
    fieldNumber = (int) number;
    wireType = type;
    pending = true;
    return true;
  }

  /** @return the number of the current field */
  public int fieldNumber() {
    return fieldNumber;
  }

  /**
   * @return the wire type of the current field: {@link #VARINT}, {@link #FIXED64}, {@link #LENGTH_DELIMITED} or
   *     {@link #FIXED32}
   */
  public int wireType() {
    return wireType;
  }

  /** Consumes the current field's value without interpreting it. */
  public void skip() {
    expectPending();
    switch (wireType) {
      case VARINT -> varint();
      case FIXED64 -> advance(8);
      case FIXED32 -> advance(4);
      default -> advance(length());
    }
    pending = false;
  }

  /** @return the current field as a varint-encoded integer (int32/int64/uint64/enum/bool) */
  public long readVarint() {
    expect(VARINT);
    pending = false;
    return varint();
  }

  /** @return the current field as a 32-bit integer, rejecting varints that do not fit */
  public int readInt32() {
    long v = readVarint();
    // Negative int32 values are sign-extended to 64 bits on the wire, so both halves must agree.
    if (v != (int) v) {
      throw malformed("value " + v + " of field " + fieldNumber + " does not fit in int32");
    }
    return (int) v;
  }

  /** @return the current field as a little-endian 32-bit float */
  public float readFloat() {
    expect(FIXED32);
    pending = false;
    ensure(4);
    return buf.getFloat();
  }

  /** @return the current field as a little-endian 64-bit value */
  public long readFixed64() {
    expect(FIXED64);
    pending = false;
    ensure(8);
    return buf.getLong();
  }

  /** @return the current length-delimited field as a read-only view of its bytes, little-endian ordered */
  public ByteBuffer readBytes() {
    expect(LENGTH_DELIMITED);
    pending = false;
    return take(length()).asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
  }

  /** @return the current length-delimited field decoded as UTF-8 */
  public String readString() {
    ByteBuffer bytes = readBytes();
    byte[] copy = new byte[bytes.remaining()];
    bytes.get(copy);
    return new String(copy, StandardCharsets.UTF_8);
  }

  /** @return a reader over the current length-delimited field, which must hold an embedded message */
  public ProtoReader readMessage() {
    expect(LENGTH_DELIMITED);
    pending = false;
    int len = length();
    long offset = baseOffset + buf.position();
    return new ProtoReader(take(len), offset);
  }

  /**
   * Reads one occurrence of a repeated varint field, accepting both the packed and the unpacked encoding, as
   * protobuf parsers must.
   *
   * @param sink receives each value in order
   */
  public void readRepeatedVarint(LongConsumer sink) {
    if (wireType != LENGTH_DELIMITED) {
      sink.accept(readVarint());
      return;
    }
    ProtoReader packed = readMessage();
    while (packed.buf.hasRemaining()) {
      sink.accept(packed.varint());
    }
  }

  /**
   * Reads one occurrence of a repeated fixed32 field (float, fixed32), packed or not.
   *
   * @param sink receives the raw 32 bits of each value in order
   */
  public void readRepeatedFixed32(IntConsumer sink) {
    if (wireType != LENGTH_DELIMITED) {
      expect(FIXED32);
      pending = false;
      ensure(4);
      sink.accept(buf.getInt());
      return;
    }
    ByteBuffer packed = readBytes();
    if (packed.remaining() % 4 != 0) {
      throw malformed("packed fixed32 field " + fieldNumber + " has " + packed.remaining()
          + " bytes, not a multiple of 4");
    }
    while (packed.hasRemaining()) {
      sink.accept(packed.getInt());
    }
  }

  private long varint() {
    long result = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (!buf.hasRemaining()) {
        throw malformed("truncated varint");
      }
      byte b = buf.get();
      result |= (long) (b & 0x7F) << shift;
      if (b >= 0) {
        return result;
      }
    }
    throw malformed("varint longer than 10 bytes");
  }

  private int length() {
    long len = varint();
    if (len < 0 || len > buf.remaining()) {
      throw malformed("length " + len + " of field " + fieldNumber + " exceeds the " + buf.remaining()
          + " bytes left");
    }
    return (int) len;
  }

  private ByteBuffer take(int len) {
    ByteBuffer view = buf.slice(buf.position(), len);
    buf.position(buf.position() + len);
    return view;
  }

  private void advance(int len) {
    ensure(len);
    buf.position(buf.position() + len);
  }

  private void ensure(int len) {
    if (buf.remaining() < len) {
      throw malformed("field " + fieldNumber + " needs " + len + " bytes but only " + buf.remaining()
          + " are left");
    }
  }

  private void expect(int type) {
    expectPending();
    if (wireType != type) {
      throw malformed("field " + fieldNumber + " has wire type " + wireType + ", expected " + type);
    }
  }

  private void expectPending() {
    if (!pending) {
      throw new IllegalStateException("no current field: call next() first");
    }
  }

  private MalformedProtoException malformed(String message) {
    return new MalformedProtoException(message + " (at byte " + (baseOffset + buf.position()) + ")");
  }

  /** Raised when the bytes are not a well-formed protobuf encoding. */
  public static final class MalformedProtoException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    MalformedProtoException(String message) {
      super(message);
    }
  }
}

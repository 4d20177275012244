package dev.peftembed.model;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A walk over the opcodes of a pickle record inside a TorchScript archive, executing nothing. libtorch's own
 * unpickler trusts the numbers it reads: a memo index of 2^31 makes it grow its memo table to billions of entries
 * (found by {@code ModelFuzzSuite}: one flipped bit in {@code data.pkl} turned a REDUCE into a LONG_BINPUT, and loading
 * ran for minutes through gigabytes). So before libtorch sees a record, every length must fit the record and every
 * memo index must be smaller than the record, which bounds what the unpickler allocates by the file's size. The
 * tensor storages it refers to are returned, because libtorch also trusts their element counts over the size of the
 * records holding their bytes (a truncated record crashed the JVM in a copy kernel, also found by fuzzing).
 */
final class PickleScan {
  private PickleScan() {}

  /**
   * @param file the archive, for messages
   * @param record the record's name in the archive
   * @param bytes the record
   * @return the tensor storages the pickle refers to
   * @throws ModelFormatException if the record is not a well-formed pickle of protocol 0 to 5 within those bounds
   */
  static List<StorageRef> check(Path file, String record, byte[] bytes) {
    StorageRefs storages = new StorageRefs();
    int pos = 0;
    while (pos < bytes.length) {
      int op = bytes[pos] & 0xff;
      int at = pos++;
      long arg = switch (op) {
        // no argument
        case '(', '0', '1', '2', 'N', 0x88, 0x89, 'R', 'b', 'o', 'a', 'e', 'l', ']', 'd', '}', 's', 'u', 't', ')',
            0x85, 0x86, 0x87, 0x81, 0x92, 0x93, 0x8f, 0x90, 0x91, 'Q', 0x97, 0x98 -> 0;
        case 0x94 -> 0; // MEMOIZE: the next memo index, which the number of opcodes bounds
        case '.' -> {
          if (pos != bytes.length) {
            throw bad(file, record, at, "data after STOP");
          }
          yield 0;
        }
        case 'K', 0x80, 0x82 -> fixed(bytes, pos, 1, file, record);
        case 'M', 0x83 -> fixed(bytes, pos, 2, file, record);
        case 'J', 0x84 -> fixed(bytes, pos, 4, file, record);
        case 'G' -> fixed(bytes, pos, 8, file, record);
        case 'q', 'h' -> memo(fixed(bytes, pos, 1, file, record), bytes, at, file, record);
        case 'r', 'j' -> memo(fixed(bytes, pos, 4, file, record), bytes, at, file, record);
        case 0x95 -> length(fixed(bytes, pos, 8, file, record), bytes, pos + 8, at, file, record); // FRAME
        case 'U', 0x8c, 'C', 0x8a -> length(fixed(bytes, pos, 1, file, record), bytes, pos + 1, at, file, record);
        case 'T', 'X', 'B', 0x8b -> length(fixed(bytes, pos, 4, file, record), bytes, pos + 4, at, file, record);
        case 0x8d, 0x8e, 0x96 -> length(fixed(bytes, pos, 8, file, record), bytes, pos + 8, at, file, record);
        case 'I', 'L', 'F', 'S', 'V', 'P', 'g', 'p' -> line(bytes, pos, at, file, record);
        case 'c', 'i' -> {
          int module = line(bytes, pos, at, file, record);
          yield module + line(bytes, pos + module, at, file, record);
        }
        default -> throw bad(file, record, at, String.format("unknown opcode 0x%02x", op));
      };
      storages.accept(op, bytes, pos, arg);
      pos += advance(op, arg);
      if (op == '.') {
        return storages.found;
      }
    }
    throw bad(file, record, bytes.length, "no STOP opcode: truncated");
  }

  /**
   * A tensor storage a pickle refers to: {@code ('storage', torch.FloatStorage, key, location, numel)}, the
   * persistent id torch.jit.save writes, whose bytes are the record {@code <pickle name>/<key>}.
   *
   * @param key the record's name within the pickle's folder
   * @param storageClass the storage type, as {@code module.name}
   * @param numel the elements libtorch will read from the record
   */
  record StorageRef(String key, String storageClass, long numel) {}

  /**
   * Follows just enough of the pickle's stack to read persistent ids: strings, ints, globals and the memo, and the
   * tuples built of them. Anything else is an opaque value; nothing is constructed or executed.
   */
  private static final class StorageRefs {
    private static final Object OPAQUE = new Object();
    private final List<StorageRef> found = new ArrayList<>();
    private final Deque<List<Object>> frames = new ArrayDeque<>();
    private final Map<Long, Object> memo = new HashMap<>();
    private Object last = OPAQUE;

    void accept(int op, byte[] b, int pos, long arg) {
      switch (op) {
        case '(' -> frames.push(new ArrayList<>());
        case 'X', 0x8c, 0x8d -> {
          int width = op == 0x8c ? 1 : op == 'X' ? 4 : 8;
          push(new String(b, pos + width, (int) arg, StandardCharsets.UTF_8));
        }
        case 'c' -> {
          String text = new String(b, pos, (int) arg, StandardCharsets.UTF_8).strip();
          push(text.replace('\n', '.'));
        }
        case 'K', 'M', 'J' -> push(op == 'J' ? (long) (int) arg : arg);
        case 0x8a -> push(arg >= 1 && arg <= 8 ? signed(b, pos + 1, (int) arg) : OPAQUE);
        case 'h', 'j' -> push(memo.getOrDefault(arg, OPAQUE));
        case 'q', 'r' -> memo.put(arg, last);
        case 0x94 -> memo.put((long) memo.size(), last);
        case 't' -> push(frames.isEmpty() ? OPAQUE : List.copyOf(frames.pop()));
        case 'Q' -> {
          if (last instanceof List<?> t && t.size() == 5 && "storage".equals(t.get(0)) && t.get(1) instanceof String c
              && t.get(2) instanceof String key && t.get(4) instanceof Long numel) {
            found.add(new StorageRef(key, c, numel));
          }
          last = OPAQUE;
        }
        case '1', 'u', 'e', 0x90 -> {
          popFrame();
          last = OPAQUE;
        }
        case 'l', 'd', 'o', 'i', 0x91 -> {
          popFrame();
          push(OPAQUE);
        }
        case 0x80, 0x95 -> { }
        default -> push(OPAQUE);
      }
    }

    /** LONG1's two's-complement little-endian integer of {@code n} bytes. */
    private static long signed(byte[] b, int from, int n) {
      long v = b[from + n - 1];
      for (int i = n - 2; i >= 0; i--) {
        v = (v << 8) | (b[from + i] & 0xff);
      }
      return v;
    }

    private void push(Object value) {
      last = value;
      if (!frames.isEmpty()) {
        frames.peek().add(value == null ? OPAQUE : value);
      }
    }

    private void popFrame() {
      if (!frames.isEmpty()) {
        frames.pop();
      }
    }
  }

  /** Bytes an opcode's argument takes, given what {@code arg} returned for it. */
  private static int advance(int op, long arg) {
    return switch (op) {
      case 'K', 0x80, 0x82, 'q', 'h' -> 1;
      case 'M', 0x83 -> 2;
      case 'J', 0x84, 'r', 'j' -> 4;
      case 'G' -> 8;
      case 0x95 -> 8; // a frame's bytes are opcodes themselves, walked next
      case 'U', 0x8c, 'C', 0x8a -> 1 + (int) arg;
      case 'T', 'X', 'B', 0x8b -> 4 + (int) arg;
      case 0x8d, 0x8e, 0x96 -> 8 + (int) arg;
      case 'I', 'L', 'F', 'S', 'V', 'P', 'g', 'p', 'c', 'i' -> (int) arg;
      default -> 0;
    };
  }

  /** An unsigned little-endian integer of {@code n} bytes at {@code pos}. */
  private static long fixed(byte[] b, int pos, int n, Path file, String record) {
    if (pos + n > b.length) {
      throw bad(file, record, pos, "argument runs past the end of the record");
    }
    long v = 0;
    for (int i = n - 1; i >= 0; i--) {
      v = (v << 8) | (b[pos + i] & 0xff);
    }
    return v;
  }

  private static long memo(long index, byte[] b, int at, Path file, String record) {
    if (index >= b.length) {
      throw bad(file, record, at, "memo index " + index + " exceeds the record's " + b.length + " bytes");
    }
    return index;
  }

  /** A length that must fit what is left of the record after {@code from}; for FRAME, the frame itself. */
  private static long length(long n, byte[] b, int from, int at, Path file, String record) {
    if (n < 0 || n > b.length - (long) from) {
      throw bad(file, record, at, "length " + Long.toUnsignedString(n) + " exceeds the record's remaining "
          + Math.max(0, b.length - from) + " bytes");
    }
    return n;
  }

  /** A newline-terminated text argument; returns the bytes it takes, newline included. */
  private static int line(byte[] b, int from, int at, Path file, String record) {
    for (int i = from; i < b.length; i++) {
      if (b[i] == '\n') {
        return i - from + 1;
      }
    }
    throw bad(file, record, at, "text argument without a newline");
  }

  private static ModelFormatException bad(Path file, String record, int offset, String what) {
    return new ModelFormatException(file, "record " + record + " is not a well-formed pickle (" + what
        + " at byte " + offset + "); " + TorchScriptArchive.EXPECTED);
  }
}

package dev.peftembed.model;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Enumeration;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * A structural check of a TorchScript file from its zip directory alone, run where the graph is described (on a
 * Spark driver, before any executor hands the file to libtorch). libtorch's own errors for a truncated or foreign
 * file are multi-line C++ traces, and come from every task; this check names the file and what was expected, once.
 * Its pickle records are walked opcode by opcode ({@link PickleScan}) with every length and memo index bounded by
 * the record, because libtorch's unpickler allocates whatever they say. It proves the archive is a readable
 * TorchScript container, not that its code runs: libtorch still loads it.
 */
final class TorchScriptArchive {
  /** Every record of a TorchScript archive sits under one top-level folder, next to these. */
  private static final String DATA = "data.pkl";
  private static final String CONSTANTS = "constants.pkl";
  private static final String CODE = "code/";

  /** The first bytes of a legacy (pre-zip) {@code torch.save} file: a pickle protocol 2 header. */
  private static final int PICKLE_PROTO = 0x80;

  /** A module's pickles describe its structure and tensors' metadata: megabytes at most, even for large models. */
  private static final int MAX_PICKLE_BYTES = 64 << 20;

  /** The end of every message about a bad archive, {@link PickleScan}'s included. */
  static final String EXPECTED = "expected a TorchScript archive written by torch.jit.save";

  private TorchScriptArchive() {}

  /**
   * @throws ModelFormatException if the file is not a zip archive, is truncated, or is a {@code torch.save} pickle
   *     rather than a {@code torch.jit.save} module
   */
  static void check(Path file) {
    if (startsWithPickle(file)) {
      throw new ModelFormatException(file, "is a pickle (torch.save), never loaded because unpickling runs code; "
          + EXPECTED);
    }
    boolean data = false;
    boolean constants = false;
    boolean code = false;
    try (ZipFile zip = new ZipFile(file.toFile())) {
      long size = Files.size(file);
      for (Enumeration<? extends ZipEntry> entries = zip.entries(); entries.hasMoreElements(); ) {
        ZipEntry e = entries.nextElement();
        String name = e.getName();
        if (e.getCompressedSize() > size || e.getSize() < -1) {
          throw new ModelFormatException(file, "zip entry \"" + name + "\" claims " + e.getCompressedSize()
              + " bytes in a file of " + size + "; " + EXPECTED);
        }
        String inFolder = name.substring(name.indexOf('/') + 1);
        data |= inFolder.equals(DATA);
        constants |= inFolder.equals(CONSTANTS);
        code |= inFolder.startsWith(CODE);
        if (name.endsWith("pkl")) {
          checkStorages(file, zip, name, PickleScan.check(file, name, readRecord(zip, e, size, file)));
        }
      }
    } catch (IOException e) {
      throw new ModelFormatException(file, "is not a readable zip archive (" + e.getMessage()
          + "): truncated or corrupt; " + EXPECTED, e);
    }
    if (!data) {
      throw new ModelFormatException(file, "has no " + DATA + " record; " + EXPECTED);
    }
    if (!code || !constants) {
      throw new ModelFormatException(file, "holds no TorchScript code (a torch.save archive of tensors or a "
          + "state_dict, never unpickled); " + EXPECTED + " (torch.jit.trace or torch.jit.script, then save)");
    }
  }

  /**
   * Each storage a pickle names must be a record of the archive holding all its elements: libtorch reads
   * {@code numel} elements from whatever bytes the record has.
   */
  private static void checkStorages(Path file, ZipFile zip, String pickle, List<PickleScan.StorageRef> storages) {
    String folder = pickle.substring(0, pickle.length() - ".pkl".length()) + "/";
    for (PickleScan.StorageRef s : storages) {
      ZipEntry data = zip.getEntry(folder + s.key());
      if (data == null) {
        throw new ModelFormatException(file, pickle + " refers to tensor storage " + folder + s.key()
            + ", which the archive lacks; " + EXPECTED);
      }
      long need = s.numel() < 0 ? -1 : s.numel() * elementBytes(s.storageClass());
      if (need < 0 || need / elementBytes(s.storageClass()) != s.numel() || need > data.getSize()) {
        throw new ModelFormatException(file, "tensor storage " + data.getName() + " holds " + data.getSize()
            + " bytes but " + pickle + " reads " + s.numel() + " elements of " + s.storageClass()
            + " from it: truncated or corrupt");
      }
    }
  }

  /** Bytes per element of a torch storage class; the smallest, 1, for a type this list does not know. */
  private static long elementBytes(String storageClass) {
    String type = storageClass.substring(storageClass.lastIndexOf('.') + 1);
    return switch (type) {
      case "DoubleStorage", "LongStorage", "ComplexFloatStorage" -> 8;
      case "ComplexDoubleStorage" -> 16;
      case "FloatStorage", "IntStorage", "QInt32Storage" -> 4;
      case "HalfStorage", "BFloat16Storage", "ShortStorage" -> 2;
      default -> 1;
    };
  }

  /** A pickle record, read whole: pickles hold structure, not tensor data, so they are small. */
  private static byte[] readRecord(ZipFile zip, ZipEntry e, long archiveSize, Path file) throws IOException {
    if (e.getSize() > MAX_PICKLE_BYTES || e.getSize() > archiveSize) {
      throw new ModelFormatException(file, "record " + e.getName() + " claims " + e.getSize() + " bytes; at most "
          + MAX_PICKLE_BYTES + " are read for a pickle");
    }
    try (InputStream in = zip.getInputStream(e)) {
      byte[] bytes = in.readNBytes(MAX_PICKLE_BYTES + 1);
      if (bytes.length > MAX_PICKLE_BYTES) {
        throw new ModelFormatException(file, "record " + e.getName() + " is over " + MAX_PICKLE_BYTES + " bytes");
      }
      return bytes;
    }
  }

  private static boolean startsWithPickle(Path file) {
    try (InputStream in = Files.newInputStream(file)) {
      return in.read() == PICKLE_PROTO;
    } catch (IOException e) {
      throw new ModelFormatException(file, "cannot read: " + e.getMessage(), e);
    }
  }
}

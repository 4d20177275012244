package dev.peftembed.model;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * The inputs of a TorchScript graph's {@code forward}, read from the archive without loading it. DJL exposes no input
 * schema for a TorchScript module, but the archive carries the module's code as Python source: {@code data.pkl}
 * begins with the root module's class ({@code GLOBAL '__torch__.transformers.models.bert.modeling_bert BertModel'}),
 * and {@code code/__torch__/transformers/models/bert/modeling_bert.py} holds {@code class BertModel(Module):} with
 * {@code def forward(self: ..., input_ids: Tensor, attention_mask: Tensor, token_type_ids: Tensor) -> ...:}.
 *
 * <p>Only these two records are read, each up to a bound, and as text: the pickle's first opcodes are decoded by hand
 * and nothing is unpickled. The archive has passed {@link TorchScriptArchive#check} first.
 */
final class TorchScriptSignature {
  /** The class name comes first in data.pkl: PROTO, perhaps a FRAME, then GLOBAL with two short lines. */
  private static final int MAX_HEADER_BYTES = 4096;

  /** One class's code: a few kilobytes even for a large model, whose layers are submodules with code of their own. */
  private static final int MAX_CODE_BYTES = 8 << 20;

  /** A signature longer than this is not a list of a few tensors. */
  private static final int MAX_SIGNATURE_CHARS = 64 << 10;

  private static final Pattern QUALIFIED = Pattern.compile("__torch__(\\.[A-Za-z_][A-Za-z0-9_]*)*");
  private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

  static final String EXPECTED = "expected forward(self, input_ids: Tensor, attention_mask: Tensor"
      + "[, token_type_ids: Tensor]) in any order, or serving.properties' " + TorchScriptConfig.TOKEN_TYPES_KEY
      + " to pass (input_ids, attention_mask[, token_type_ids]) by position";

  private TorchScriptSignature() {}

  /**
   * @return the inputs {@code forward} takes, in its order
   * @throws ModelFormatException one line naming the file, if the signature cannot be found or read, or names an
   *     input this program cannot provide
   */
  static List<TorchScriptInput> read(Path file) {
    try (ZipFile zip = new ZipFile(file.toFile())) {
      ZipEntry data = topLevel(zip, "data.pkl");
      if (data == null) {
        throw new ModelFormatException(file, "has no data.pkl record; " + TorchScriptArchive.EXPECTED);
      }
      String folder = data.getName().substring(0, data.getName().indexOf('/') + 1);
      String[] root = rootClass(file, read(zip, data, MAX_HEADER_BYTES, file, false));
      String codeName = folder + "code/" + root[0].replace('.', '/') + ".py";
      ZipEntry code = zip.getEntry(codeName);
      if (code == null) {
        throw new ModelFormatException(file, "has no " + codeName + " for its module class " + root[0] + "."
            + root[1] + ", so forward's inputs are unknown; " + EXPECTED);
      }
      String source = new String(read(zip, code, MAX_CODE_BYTES, file, true), StandardCharsets.UTF_8);
      return inputs(file, codeName, signature(file, codeName, source, root[1]));
    } catch (IOException e) {
      throw new ModelFormatException(file, "cannot read forward's signature (" + e.getMessage() + "); "
          + TorchScriptArchive.EXPECTED, e);
    }
  }

  /** The record named {@code name} in the archive's one top-level folder. */
  private static ZipEntry topLevel(ZipFile zip, String name) {
    for (Enumeration<? extends ZipEntry> entries = zip.entries(); entries.hasMoreElements(); ) {
      ZipEntry e = entries.nextElement();
      int slash = e.getName().indexOf('/');
      if (slash > 0 && e.getName().substring(slash + 1).equals(name)) {
        return e;
      }
    }
    return null;
  }

  /**
   * Up to {@code limit} bytes of a record; with {@code whole}, a record over the limit is an error rather than cut.
   */
  private static byte[] read(ZipFile zip, ZipEntry e, int limit, Path file, boolean whole) throws IOException {
    if (whole && e.getSize() > limit) {
      throw new ModelFormatException(file, "record " + e.getName() + " claims " + e.getSize() + " bytes; at most "
          + limit + " are read for a module's code");
    }
    try (InputStream in = zip.getInputStream(e)) {
      byte[] bytes = in.readNBytes(whole ? limit + 1 : limit);
      if (whole && bytes.length > limit) {
        throw new ModelFormatException(file, "record " + e.getName() + " is over " + limit + " bytes");
      }
      return bytes;
    }
  }

  /** Module and class name of the root module: the GLOBAL opcode that data.pkl starts with. */
  private static String[] rootClass(Path file, byte[] b) {
    int pos = 0;
    if (pos + 1 < b.length && (b[pos] & 0xff) == 0x80) {
      pos += 2;
    }
    if (pos < b.length && (b[pos] & 0xff) == 0x95) {
      pos += 9;
    }
    if (pos >= b.length || b[pos] != 'c') {
      throw new ModelFormatException(file, "data.pkl does not start with the module's class, so forward's inputs "
          + "are unknown; " + EXPECTED);
    }
    String[] parts = new String[2];
    pos++;
    for (int i = 0; i < 2; i++) {
      int end = pos;
      while (end < b.length && b[end] != '\n') {
        end++;
      }
      if (end == b.length) {
        throw new ModelFormatException(file, "data.pkl names its module class in over " + MAX_HEADER_BYTES
            + " bytes; " + TorchScriptArchive.EXPECTED);
      }
      parts[i] = new String(b, pos, end - pos, StandardCharsets.UTF_8);
      pos = end + 1;
    }
    if (!QUALIFIED.matcher(parts[0]).matches() || !IDENTIFIER.matcher(parts[1]).matches()) {
      throw new ModelFormatException(file, "data.pkl's module class \"" + parts[0] + " " + parts[1] + "\" is not a "
          + "TorchScript class name; " + TorchScriptArchive.EXPECTED);
    }
    return parts;
  }

  /** The text between the parentheses of {@code def forward(...)} in {@code class className}'s body. */
  private static String signature(Path file, String codeName, String source, String className) {
    String header = "class " + className + "(";
    int at = -1;
    for (int from = 0; (from = source.indexOf(header, from)) >= 0; from += header.length()) {
      if (from == 0 || source.charAt(from - 1) == '\n') {
        at = from;
        break;
      }
    }
    if (at < 0) {
      throw new ModelFormatException(file, codeName + " has no class " + className + "; " + EXPECTED);
    }
    int end = source.indexOf("\nclass ", at + header.length());
    String body = source.substring(at, end < 0 ? source.length() : end);
    int def = body.indexOf("\n  def forward(");
    if (def < 0) {
      throw new ModelFormatException(file, "class " + className + " in " + codeName + " has no forward method; "
          + EXPECTED);
    }
    int open = def + "\n  def forward(".length();
    int depth = 0;
    for (int i = open; i < body.length() && i - open < MAX_SIGNATURE_CHARS; i++) {
      char c = body.charAt(i);
      if (c == '(' || c == '[') {
        depth++;
      } else if ((c == ')' || c == ']') && depth > 0) {
        depth--;
      } else if (c == ')') {
        return body.substring(open, i);
      }
    }
    throw new ModelFormatException(file, "the signature of " + className + ".forward in " + codeName + " does not "
        + "close within " + MAX_SIGNATURE_CHARS + " characters; " + EXPECTED);
  }

  /**
   * The inputs a signature takes. Every parameter after {@code self} must be one this program provides, a tensor;
   * parameters with defaults after the last of those are left to their defaults.
   */
  private static List<TorchScriptInput> inputs(Path file, String codeName, String signature) {
    List<String> params = splitTopLevel(signature);
    String shown = "forward(" + String.join(", ", params) + ") in " + codeName;
    if (params.isEmpty() || !params.get(0).equals("self") && !params.get(0).startsWith("self:")) {
      throw new ModelFormatException(file, shown + " has no self parameter; " + EXPECTED);
    }
    List<TorchScriptInput> inputs = new ArrayList<>();
    boolean defaultsOnly = false;
    for (String p : params.subList(1, params.size())) {
      int colon = p.indexOf(':');
      int eq = p.indexOf('=');
      String name = p.substring(0, colon >= 0 ? colon : eq >= 0 ? eq : p.length()).strip();
      String type = colon < 0 ? "" : p.substring(colon + 1, eq > colon ? eq : p.length()).strip();
      boolean hasDefault = eq >= 0;
      TorchScriptInput input = TorchScriptInput.named(name);
      if (input == null) {
        if (!hasDefault) {
          throw new ModelFormatException(file, shown + " takes \"" + name + "\", which this program cannot provide; "
              + EXPECTED);
        }
        defaultsOnly = true;
        continue;
      }
      if (defaultsOnly) {
        throw new ModelFormatException(file, shown + " takes " + name + " after a parameter left to its default, "
            + "so it cannot be passed by position; " + EXPECTED);
      }
      if (!type.isEmpty() && !type.equals("Tensor") && !type.equals("Optional[Tensor]")) {
        throw new ModelFormatException(file, shown + " takes " + name + " as " + type + ", not a tensor; " + EXPECTED);
      }
      if (inputs.contains(input)) {
        throw new ModelFormatException(file, shown + " takes " + name + " twice; " + EXPECTED);
      }
      inputs.add(input);
    }
    if (!inputs.contains(TorchScriptInput.INPUT_IDS) || !inputs.contains(TorchScriptInput.ATTENTION_MASK)) {
      throw new ModelFormatException(file, shown + " lacks input_ids or attention_mask; " + EXPECTED);
    }
    return List.copyOf(inputs);
  }

  /** Parameters separated by the commas outside brackets, stripped, without empty ones. */
  private static List<String> splitTopLevel(String text) {
    List<String> out = new ArrayList<>();
    int depth = 0;
    int start = 0;
    for (int i = 0; i <= text.length(); i++) {
      char c = i < text.length() ? text.charAt(i) : ',';
      if (c == '(' || c == '[') {
        depth++;
      } else if (c == ')' || c == ']') {
        depth--;
      } else if (c == ',' && depth == 0) {
        String p = text.substring(start, i).strip();
        if (!p.isEmpty()) {
          out.add(p);
        }
        start = i + 1;
      }
    }
    return out;
  }
}

package dev.peftembed.model;

import java.nio.file.Path;

/**
 * A model or adapter file that cannot be used as it is. The message is one line that names the file and says what
 * was expected, so a user can fix the input without reading a stack trace.
 */
public final class ModelFormatException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Long enough for any message of ours with the paths it names; longer means a file's contents are quoted. */
  private static final int MAX_MESSAGE_CHARS = 2000;

  private final transient Path file;

  /**
   * @param file the file (or directory) at fault
   * @param message what was expected there, and what was found
   */
  public ModelFormatException(Path file, String message) {
    super(oneLine(file + ": " + message));
    this.file = file;
  }

  /**
   * @param file the file (or directory) at fault
   * @param message what was expected there, and what was found
   * @param cause the low-level failure
   */
  public ModelFormatException(Path file, String message, Throwable cause) {
    super(oneLine(file + ": " + message), cause);
    this.file = file;
  }

  /**
   * Messages quote what a file says (tensor names, dtypes, field values), which a corrupt or hostile file can fill
   * with line breaks, control characters or megabytes of text: they are escaped and cut, so the message stays one
   * readable line.
   */
  private static String oneLine(String message) {
    StringBuilder out = new StringBuilder(Math.min(message.length(), MAX_MESSAGE_CHARS) + 16);
    for (int i = 0; i < message.length(); i++) {
      if (out.length() >= MAX_MESSAGE_CHARS) {
        return out.append("... (").append(message.length() - i).append(" more characters)").toString();
      }
      char c = message.charAt(i);
      if (c == '\n') {
        out.append("\\n");
      } else if (c == '\r') {
        out.append("\\r");
      } else if (Character.isISOControl(c) || c == '\u2028' || c == '\u2029') {
        out.append(String.format("\\u%04x", (int) c));
      } else {
        out.append(c);
      }
    }
    return out.toString();
  }

  /** @return the file (or directory) at fault */
  public Path file() {
    return file;
  }
}

package dev.peftembed.model;

import java.nio.file.Path;

/**
 * A model or adapter file that cannot be used as it is. The message is one line that names the file and says what
 * was expected, so a user can fix the input without reading a stack trace.
 */
public final class ModelFormatException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final transient Path file;

  /**
   * @param file the file (or directory) at fault
   * @param message what was expected there, and what was found
   */
  public ModelFormatException(Path file, String message) {
    super(file + ": " + message);
    this.file = file;
  }

  /**
   * @param file the file (or directory) at fault
   * @param message what was expected there, and what was found
   * @param cause the low-level failure
   */
  public ModelFormatException(Path file, String message, Throwable cause) {
    super(file + ": " + message, cause);
    this.file = file;
  }

  /** @return the file (or directory) at fault */
  public Path file() {
    return file;
  }
}

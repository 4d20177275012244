package dev.peftembed.cli;

import dev.peftembed.model.ModelFormatException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code peft-embed} command line. */
@Command(name = "peft-embed", mixinStandardHelpOptions = true, version = "peft-embed 0.1.0",
    description = "Sentence embeddings from sentence-transformers models with PEFT adapters, on libtorch.",
    subcommands = {EncodeCommand.class, ImportOnnxCommand.class})
public final class Main {

  /** Exit code for bad input the user can fix: a config error, a bad option. */
  static final int USAGE_ERROR = 2;

  private Main() {}

  /** Runs a command and exits with its code. */
  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Runs a command; returns its exit code. Errors the user can act on are one line on stderr. */
  public static int run(String... args) {
    CommandLine cli = new CommandLine(new Main());
    cli.setExecutionExceptionHandler((e, line, parsed) -> {
      if (e instanceof ModelFormatException || e instanceof IllegalArgumentException
          || e instanceof java.io.UncheckedIOException || e instanceof java.io.IOException) {
        line.getErr().println("peft-embed: error: " + e.getMessage());
        return USAGE_ERROR;
      }
      throw e;
    });
    return cli.execute(args);
  }
}

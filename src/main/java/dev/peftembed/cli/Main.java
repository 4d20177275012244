package dev.peftembed.cli;

import dev.peftembed.model.ModelFormatException;
import picocli.CommandLine.Command;
import picocli.CommandLine;

/** The {@code peft-embed} command line. */
@Command(name = "peft-embed", mixinStandardHelpOptions = true, version = "peft-embed 0.1.0",
    description = "Sentence embeddings from sentence-transformers models with PEFT adapters, on libtorch.",
    subcommands = {EmbedCommand.class, EncodeCommand.class, ImportOnnxCommand.class, SimilarCommand.class,
        NewAdapterCommand.class, InspectCommand.class})
public final class Main {

  /** Exit code for bad input the user can fix: a config error, a bad option. */
  static final int USAGE_ERROR = 2;

  /** Errors the user can act on become one line on stderr and {@link #USAGE_ERROR}; anything else propagates. */
  static final CommandLine.IExecutionExceptionHandler USER_ERRORS = (e, line, parsed) -> {
    if (e instanceof ModelFormatException || e instanceof IllegalArgumentException
        || e instanceof java.io.UncheckedIOException || e instanceof java.io.IOException) {
      line.getErr().println("peft-embed: error: " + e.getMessage());
      return USAGE_ERROR;
    }
    throw e;
  };

  private Main() {}

  /** Runs a command and exits with its code. */
  public static void main(String[] args) {
    System.exit(run(args));
  }

  /**
   * Runs a command; returns its exit code. Errors the user can act on are one line on stderr. With no arguments it
   * runs the demo: {@code embed} on the bundled sample corpus with the default model.
   */
  public static int run(String... args) {
    String[] effective = args.length == 0 ? new String[] {"embed"} : args;
    CommandLine cli = new CommandLine(new Main());
    cli.setExecutionExceptionHandler(USER_ERRORS);
    try {
      cli.getSubcommands().get("embed").setDefaultValueProvider(ConfigFileDefaults.locate(effective));
    } catch (IllegalArgumentException | java.io.UncheckedIOException e) {
      cli.getErr().println("peft-embed: error: " + e.getMessage());
      return USAGE_ERROR;
    }
    return cli.execute(effective);
  }
}

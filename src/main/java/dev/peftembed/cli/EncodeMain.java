package dev.peftembed.cli;

import picocli.CommandLine;

/**
 * {@code encode} alone, for a JVM without Spark on its classpath, such as the GPU kit that {@code scripts/gpu-kit}
 * builds. {@link Main} lists every command, and picocli's reflection over the Spark ones needs Spark's classes.
 */
public final class EncodeMain {

  private EncodeMain() {}

  /** Runs {@code encode} with the given options and exits with its code. */
  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Runs {@code encode} with the given options; returns its exit code, as {@link Main#run} does. */
  public static int run(String... args) {
    CommandLine cli = new CommandLine(new EncodeCommand());
    cli.setExecutionExceptionHandler(Main.USER_ERRORS);
    return cli.execute(args);
  }
}

package dev.peftembed.cli;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import picocli.CommandLine.IDefaultValueProvider;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Option defaults from a properties file whose keys are the long option names without dashes
 * ({@code batch-size = 32}). The command line always wins.
 */
final class ConfigFileDefaults implements IDefaultValueProvider {
  private final Properties properties = new Properties();

  private ConfigFileDefaults(Path file) {
    if (file == null) {
      return;
    }
    try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      properties.load(in);
    } catch (IOException e) {
      throw new UncheckedIOException(file + ": cannot read the configuration file: " + e.getMessage(), e);
    }
  }

  /**
   * Finds the file: {@code --config FILE} among the arguments, else {@code $PEFT_EMBED_CONF}, else the project's
   * {@code conf/peft-embed.properties} when present.
   *
   * @throws IllegalArgumentException if a file named explicitly does not exist
   */
  static ConfigFileDefaults locate(String[] args) {
    for (int i = 0; i + 1 < args.length; i++) {
      if (args[i].equals("--config")) {
        return new ConfigFileDefaults(required(Path.of(args[i + 1])));
      }
      if (args[i].startsWith("--config=")) {
        return new ConfigFileDefaults(required(Path.of(args[i].substring("--config=".length()))));
      }
    }
    String env = System.getenv("PEFT_EMBED_CONF");
    if (env != null && !env.isBlank()) {
      return new ConfigFileDefaults(required(Path.of(env)));
    }
    String root = System.getProperty("peftembed.root");
    Path projectDefault = root == null ? null : Path.of(root, "conf", "peft-embed.properties");
    return new ConfigFileDefaults(projectDefault != null && Files.isRegularFile(projectDefault)
        ? projectDefault : null);
  }

  private static Path required(Path file) {
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException(file + ": configuration file not found");
    }
    return file;
  }

  @Override
  public String defaultValue(ArgSpec arg) {
    if (!(arg instanceof OptionSpec option)) {
      return null;
    }
    String value = properties.getProperty(option.longestName().replaceFirst("^-+", ""));
    return value != null ? value.trim() : null;
  }
}

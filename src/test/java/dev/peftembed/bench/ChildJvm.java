package dev.peftembed.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts benchmark JVMs with this JVM's classpath and flags. {@link #run} is one measurement in a fresh JVM, request
 * and result passed as JSON files: the Spark stage gets a JVM of its own, as an executor would have.
 */
final class ChildJvm {
  private static final Logger LOG = LoggerFactory.getLogger(ChildJvm.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private ChildJvm() {}

  /**
   * Starts {@code mainClass} with a request and waits for its result. The child's stdout is copied to this JVM's
   * stderr, so that this JVM's stdout stays the table and the summary line.
   *
   * @throws IllegalStateException if the child fails or runs past {@code timeout}
   */
  static <T> T run(Class<?> mainClass, Object request, Class<T> resultType, Duration timeout) {
    try {
      Path dir = Files.createTempDirectory("peft-embed-bench");
      Path requestFile = dir.resolve("request.json");
      Path resultFile = dir.resolve("result.json");
      JSON.writeValue(requestFile.toFile(), request);
      Process process = command(mainClass, requestFile.toString(), resultFile.toString())
          .redirectError(ProcessBuilder.Redirect.INHERIT).start();
      Thread pump = copyToStderr(process.getInputStream());
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly();
        throw new IllegalStateException(mainClass.getSimpleName() + " ran past " + timeout.toMinutes() + " min");
      }
      pump.join();
      if (process.exitValue() != 0 || !Files.isRegularFile(resultFile)) {
        throw new IllegalStateException(mainClass.getSimpleName() + " failed with exit code " + process.exitValue()
            + " (its log is above)");
      }
      T result = JSON.readValue(resultFile.toFile(), resultType);
      Files.delete(requestFile);
      Files.delete(resultFile);
      Files.delete(dir);
      return result;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot run " + mainClass.getSimpleName() + " in a child JVM", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while " + mainClass.getSimpleName() + " ran", e);
    }
  }

  /** @return a process builder for {@code java <this JVM's flags> -cp <this classpath> mainClass args} */
  static ProcessBuilder command(Class<?> mainClass, String... args) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      // A debugger agent would try to bind the parent's port a second time.
      if (!arg.startsWith("-agentlib:jdwp")) {
        command.add(arg);
      }
    }
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), mainClass.getName()));
    command.addAll(List.of(args));
    return new ProcessBuilder(command);
  }

  /**
   * The child side: reads the request named by {@code args[0]}, computes, writes the result to {@code args[1]}, and
   * exits the JVM (libraries such as Spark leave non-daemon threads behind); a failure is printed and exits with 1.
   */
  static <Q, R> void serve(String[] args, Class<Q> requestType, Function<Q, R> work) {
    int status = 1;
    try {
      Q request = JSON.readValue(Path.of(args[0]).toFile(), requestType);
      JSON.writeValue(Path.of(args[1]).toFile(), work.apply(request));
      status = 0;
    } catch (IOException | RuntimeException e) {
      LOG.error("the benchmark child failed on its {}", requestType.getSimpleName(), e);
    }
    System.exit(status);
  }

  private static Thread copyToStderr(InputStream in) {
    Thread t = new Thread(() -> {
      try (in) {
        in.transferTo(System.err);
      } catch (IOException e) {
        // The child is gone; its exit code tells the rest.
      }
    }, "bench-child-output");
    t.setDaemon(true);
    t.start();
    return t;
  }
}

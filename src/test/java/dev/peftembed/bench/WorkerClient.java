package dev.peftembed.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** The parent's handle on one {@link SystemWorker} JVM: starts it, sends commands, reads its answers. */
final class WorkerClient implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final String system;
  private final Process process;
  private final BufferedReader out;
  private final Writer in;
  private final SystemWorker.Ready ready;

  private WorkerClient(String system, Process process) throws IOException {
    this.system = system;
    this.process = process;
    this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    this.in = process.outputWriter(StandardCharsets.UTF_8);
    this.ready = read(SystemWorker.Ready.class);
  }

  /** Starts a worker and waits until its system is loaded. */
  static WorkerClient start(SystemWorker.Start start) {
    try {
      Path request = Files.createTempFile("peft-embed-bench-worker", ".json");
      JSON.writeValue(request.toFile(), start);
      Process process = ChildJvm.command(SystemWorker.class, request.toString())
          .redirectError(ProcessBuilder.Redirect.INHERIT).start();
      try {
        return new WorkerClient(start.system(), process);
      } catch (IOException | RuntimeException e) {
        process.destroyForcibly();
        throw e;
      } finally {
        Files.delete(request);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start the worker for system " + start.system(), e);
    }
  }

  /** @return what the worker reported once loaded */
  SystemWorker.Ready ready() {
    return ready;
  }

  /**
   * Runs one timed pass in the worker.
   *
   * @param corpus the corpus label (ignored by the matmul probe)
   * @param vectorsFile where the worker writes the vectors, or {@code null}
   */
  SystemWorker.Reply pass(String corpus, Path vectorsFile) {
    return ask(new SystemWorker.Command("pass", corpus, vectorsFile == null ? null : vectorsFile.toString()));
  }

  /** @return the worker's memory now and its peak so far */
  SystemWorker.Reply stats() {
    return ask(new SystemWorker.Command("stats", null, null));
  }

  private SystemWorker.Reply ask(SystemWorker.Command command) {
    try {
      in.write(JSON.writeValueAsString(command));
      in.write('\n');
      in.flush();
      return read(SystemWorker.Reply.class);
    } catch (IOException e) {
      throw new UncheckedIOException("the worker of system " + system + " stopped answering", e);
    }
  }

  /** Reads up to the next protocol line; other lines (libraries printing to stdout) are passed to stderr. */
  private <T> T read(Class<T> type) throws IOException {
    for (String line = out.readLine(); line != null; line = out.readLine()) {
      if (line.startsWith(SystemWorker.PREFIX)) {
        return JSON.readValue(line.substring(SystemWorker.PREFIX.length()), type);
      }
      System.err.println(line);
    }
    throw new IllegalStateException("the worker of system " + system + " exited early" + exitCode()
        + " (its log is above)");
  }

  private String exitCode() {
    try {
      return process.waitFor(10, TimeUnit.SECONDS) ? " with exit code " + process.exitValue() : "";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "";
    }
  }

  /** Asks the worker to quit and waits for it; kills it if it does not exit within a minute. */
  @Override
  public void close() {
    try {
      in.write("{\"op\":\"quit\"}\n");
      in.flush();
    } catch (IOException e) {
      // Already gone: waitFor below returns at once.
    }
    try {
      if (!process.waitFor(1, TimeUnit.MINUTES)) {
        process.destroyForcibly();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
  }
}

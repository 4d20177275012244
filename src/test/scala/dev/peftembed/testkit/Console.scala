package dev.peftembed.testkit

import dev.peftembed.cli.Main
import java.io.{ByteArrayOutputStream, PrintStream}
import java.nio.charset.StandardCharsets.UTF_8

/** Runs the command line in-process, as a user would from a shell, and captures what it prints. */
object Console {
  /** @return the exit code, stdout and stderr of `peft-embed args...` */
  def run(args: String*): (Int, String, String) = capture(Main.run(args: _*))

  /** @return the exit code `body` returns, and what it printed on stdout and stderr */
  def capture(body: => Int): (Int, String, String) = {
    val out = new ByteArrayOutputStream()
    val err = new ByteArrayOutputStream()
    val (savedOut, savedErr) = (System.out, System.err)
    System.setOut(new PrintStream(out, true, UTF_8))
    System.setErr(new PrintStream(err, true, UTF_8))
    try {
      val code = body
      (code, out.toString(UTF_8), err.toString(UTF_8))
    } finally {
      System.setOut(savedOut)
      System.setErr(savedErr)
    }
  }
}

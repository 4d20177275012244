import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The build's proof that {@code mvn verify} leaves nothing new in the system temp directory (the Maven JVM's
 * {@code java.io.tmpdir}): the POM runs {@code snapshot} in initialize and {@code compare} in verify, after the
 * integration tests. Run by the JDK's source launcher, so it needs no compilation and no dependency.
 *
 * <p>Which new entries count as the build's: a temp directory is shared by every process of the machine, and no
 * portable API says which process created a file. So an entry is attributed to the build when it appeared after the
 * snapshot (a name not there before) and its name has the shape that the build's own
 * writers give their temp files:
 *
 * <ul>
 *   <li>a run of 9 or more digits: Java's temp names (prefix, random unsigned long, suffix), used by our tests and by
 *       the libraries that unpack natives into {@code java.io.tmpdir} (ONNX Runtime, JNA, lz4, zstd);
 *   <li>Spark's {@code spark-<uuid>} and {@code blockmgr-<uuid>} directories, snappy's {@code snappy-*} library;
 *   <li>{@code hadoop-*}: Hadoop's {@code hadoop.tmp.dir}, which is not derived from {@code java.io.tmpdir};
 *   <li>{@code tmp} and eight characters of {@code [a-z0-9_]}: Python's {@code tempfile}, for the notebooks.
 * </ul>
 *
 * Other new entries (a shell's {@code mktemp}, an editor's or a service's files) are listed but do not fail the
 * build. Entries that a live process outside this build has open, maps or runs in are not attributed to the build
 * either: that is what another build running at the same time leaves while it runs. What such a build leaves after
 * it exits has the same names as ours and is reported, so on a shared machine a failure lists each entry with its
 * time, for the reader to judge; on a CI host, which runs one build, the check is exact for these families.
 */
public final class TmpCheck {
  private static final Pattern OURS = Pattern.compile(
      ".*[0-9]{9,}.*|(spark|blockmgr)-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|snappy-.*"
          + "|hadoop-.*|tmp[a-z0-9_]{8}");

  private TmpCheck() {}

  /**
   * {@code snapshot <tmp> <state file> [dir to create ...]} records {@code tmp}'s entries and creates the build's own
   * temp directories; {@code compare <tmp> <state file>} fails, listing them, if entries of the build's families are
   * new.
   */
  public static void main(String[] args) throws IOException {
    if (args.length < 3 || !(args[0].equals("snapshot") || args[0].equals("compare"))) {
      System.err.println("usage: TmpCheck snapshot <tmp> <state file> [dir ...] | compare <tmp> <state file>");
      System.exit(2);
    }
    Path tmp = Path.of(args[1]).toAbsolutePath().normalize();
    Path state = Path.of(args[2]);
    if (args[0].equals("snapshot")) {
      Files.createDirectories(state.getParent());
      List<String> lines = new ArrayList<>();
      Files.write(state, names(tmp), StandardCharsets.UTF_8);
      for (int i = 3; i < args.length; i++) {
        Files.createDirectories(Path.of(args[i]));
      }
      return;
    }
    if (!Files.isRegularFile(state)) {
      System.err.println("tmp check: no snapshot at " + state + " (the initialize phase writes it); nothing compared");
      return;
    }
    Set<String> before = new HashSet<>(Files.readAllLines(state, StandardCharsets.UTF_8));
    Map<String, String> inUse = usedByOthers(tmp);
    List<String> ours = new ArrayList<>();
    List<String> others = new ArrayList<>();
    for (String name : names(tmp)) {
      if (before.contains(name)) {
        continue;
      }
      String line = describe(tmp.resolve(name));
      if (inUse.containsKey(name)) {
        others.add(line + ", in use by " + inUse.get(name));
      } else if (OURS.matcher(name).matches()) {
        ours.add(line);
      } else {
        others.add(line);
      }
    }
    others.forEach(l -> System.out.println("tmp check: new in " + tmp + " but not the build's: " + l));
    if (!ours.isEmpty()) {
      System.err.println("tmp check: this build left " + ours.size() + " new entries in " + tmp
          + " (tests must write under target/; see src/build/TmpCheck.java for what counts as the build's):");
      ours.forEach(l -> System.err.println("  " + l));
      System.exit(1);
    }
    System.out.println("tmp check: nothing new from this build in " + tmp);
  }

  /** The names directly under {@code dir}, sorted. (Not inodes: a file system hands a freed inode out again.) */
  private static List<String> names(Path dir) throws IOException {
    List<String> out = new ArrayList<>();
    try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
      s.forEach(p -> out.add(p.getFileName().toString()));
    }
    out.sort(null);
    return out;
  }

  /** Name, modification time and bytes in all, so that a reader can tell whose entry it is. */
  private static String describe(Path p) {
    long[] bytes = {0};
    String time = "?";
    try {
      time = Files.getLastModifiedTime(p, LinkOption.NOFOLLOW_LINKS).toString();
      try (Stream<Path> all = Files.walk(p)) {
        all.forEach(f -> {
          try {
            bytes[0] += Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS) ? Files.size(f) : 0;
          } catch (IOException unreadable) {
            // Counted as empty: the size only helps a reader.
          }
        });
      }
    } catch (IOException | RuntimeException unreadable) {
      // Another user's directory, or one being deleted: the name is what matters.
    }
    return p.getFileName() + " (modified " + time + ", " + bytes[0] + " bytes)";
  }

  /**
   * Entries of {@code tmp} that a live process other than this build's holds as an open file, a mapped file or its
   * working directory, with that process. This JVM's ancestors (Maven and what started it) are the build.
   */
  private static Map<String, String> usedByOthers(Path tmp) {
    Set<Long> build = new HashSet<>();
    ProcessHandle.current().parent().ifPresent(p -> {
      for (ProcessHandle h = p; h != null; h = h.parent().orElse(null)) {
        build.add(h.pid());
      }
    });
    build.add(ProcessHandle.current().pid());
    Map<String, String> used = new TreeMap<>();
    String prefix = tmp + "/";
    try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
      for (Path proc : procs) {
        long pid = Long.parseLong(proc.getFileName().toString());
        if (build.contains(pid)) {
          continue;
        }
        List<String> paths = new ArrayList<>();
        readLink(proc.resolve("cwd"), paths);
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(proc.resolve("fd"))) {
          fds.forEach(fd -> readLink(fd, paths));
        } catch (IOException | RuntimeException unreadable) {
          // Another user's process, or one that just exited.
        }
        try (Stream<String> maps = Files.lines(proc.resolve("maps"))) {
          maps.map(l -> l.substring(l.indexOf('/') < 0 ? l.length() : l.indexOf('/'))).forEach(paths::add);
        } catch (IOException | RuntimeException unreadable) {
          // As above.
        }
        for (String path : paths) {
          if (path.startsWith(prefix)) {
            String rest = path.substring(prefix.length());
            int slash = rest.indexOf('/');
            used.putIfAbsent(slash < 0 ? rest : rest.substring(0, slash), "pid " + pid + " (" + command(proc) + ")");
          }
        }
      }
    } catch (IOException | RuntimeException noProc) {
      // Without /proc nothing is known to be another's.
    }
    return used;
  }

  private static void readLink(Path link, List<String> out) {
    try {
      out.add(Files.readSymbolicLink(link).toString());
    } catch (IOException | RuntimeException unreadable) {
      // Closed or not ours to read.
    }
  }

  private static String command(Path proc) {
    try {
      return Files.readString(proc.resolve("comm")).strip();
    } catch (IOException unreadable) {
      return "?";
    }
  }
}

# shellcheck shell=bash
# Shared by the scripts: where caches live, how to build, and the JVM flags every run needs.
PEFT_EMBED_HOME="${PEFT_EMBED_HOME:-$HOME/.cache/peft-embed}"
export PEFT_EMBED_HOME
export SPARK_LOCAL_IP="${SPARK_LOCAL_IP:-127.0.0.1}"

# Rebuilds target/classes and the classpath files when any source or the POM is newer than the last build.
# target/classpath.txt is what a local run needs (compile and provided scope); target/spark-classpath.txt, written by
# the POM's spark-classpath execution, holds only the jars a Spark distribution would have.
peft_embed_build() {
  local stamp="$ROOT/target/.build-stamp"
  if [[ -f "$stamp" && -f "$ROOT/target/classpath.txt" && -f "$ROOT/target/spark-classpath.txt" ]] \
      && [[ -z "$(find "$ROOT/pom.xml" "$ROOT/src/main" -newer "$stamp" -print -quit)" ]]; then
    return 0
  fi
  echo "peft-embed: building (first run, or sources changed) ..." >&2
  (cd "$ROOT" && mvn -q -B -DskipTests compile dependency:build-classpath \
      -Dmdep.outputFile=target/classpath.txt -DincludeScope=compile) >&2
  touch "$stamp"
}

peft_embed_classpath() {
  echo "$ROOT/target/classes:$(cat "$ROOT/target/classpath.txt")"
}

peft_embed_spark_classpath() {
  cat "$ROOT/target/spark-classpath.txt"
}

# Prints the application jar for spark-submit, building it first when it is missing or older than the sources.
peft_embed_app_jar() {
  local jar
  jar="$(newest_app_jar)"
  if [[ -z "$jar" || -n "$(find "$ROOT/pom.xml" "$ROOT/src/main" -newer "$jar" -print -quit)" ]]; then
    echo "peft-embed: building the application jar ..." >&2
    (cd "$ROOT" && mvn -q -B -DskipTests -Dmaven.test.skip=true package) >&2
    jar="$(newest_app_jar)"
  fi
  echo "$jar"
}

# After a version bump target/ can hold an older app jar as well: the newest one is the current build.
newest_app_jar() {
  local jar="" candidate
  for candidate in "$ROOT"/target/spark-peft-embed-*-app.jar; do
    if [[ -f "$candidate" && ( -z "$jar" || "$candidate" -nt "$jar" ) ]]; then
      jar="$candidate"
    fi
  done
  echo "$jar"
}

# The JVM flags every run needs, one per line (read them with mapfile): offline DJL, caches and natives under
# PEFT_EMBED_HOME, the quiet console logging, the project root (for conf/peft-embed.properties), and the temp dir.
peft_embed_jvm_flags() {
  printf '%s\n' -Dai.djl.offline=true "-DDJL_CACHE_DIR=$PEFT_EMBED_HOME/djl" "-Djna.tmpdir=$PEFT_EMBED_HOME/jna" \
    "-Dpeftembed.home=$PEFT_EMBED_HOME" "-Dlog4j2.configurationFile=$ROOT/conf/log4j2.properties" \
    "-Dpeftembed.root=$ROOT"
  peft_embed_tmpdir_flag
}

# Java ignores TMPDIR and writes under /tmp: Spark's scratch dirs, ONNX Runtime's unpacked library. With TMPDIR set
# (the build sets it for its tests), every JVM the scripts start uses it too. Prints nothing otherwise.
peft_embed_tmpdir_flag() {
  if [[ -n "${TMPDIR:-}" ]]; then
    mkdir -p "$TMPDIR"
    printf '%s\n' "-Djava.io.tmpdir=$TMPDIR"
  fi
}

# Native settings for every JVM that runs libtorch on CPU. They take effect only if they are in the environment when
# the JVM starts, so the scripts call this before `java`; child processes inherit them (benchmark workers, the
# standalone Workers of scripts/cluster and the executors they launch). PEFT_EMBED_NATIVE_ENV lists their names, for
# the executors of a cluster that does not inherit this environment (scripts/peft-embed passes each on).
peft_embed_native_env() {
  PEFT_EMBED_NATIVE_ENV=()
  # glibc hands blocks above its mmap threshold (adaptive, at most 32 MiB) straight back to the kernel, so a batch's
  # activations are mapped afresh and page-faulted on every layer. Keeping blocks up to 256 MiB in the heap, and not
  # trimming it, lets the allocator reuse warm memory (README, "What was tuned"). A value already in the environment
  # wins.
  peft_embed_native_setting MALLOC_MMAP_THRESHOLD_ 268435456
  peft_embed_native_setting MALLOC_TRIM_THRESHOLD_ 1073741824
  peft_embed_native_setting MALLOC_TOP_PAD_ 67108864
  # oneDNN keeps a compiled primitive for every input shape it meets, and token-budget batches meet hundreds, so
  # its cache only grows the process; without it the speed and the vectors are the same.
  peft_embed_native_setting ONEDNN_PRIMITIVE_CACHE_CAPACITY 0
  peft_embed_mkl_shim
}

# Exports the native setting $1, with the default $2 unless the environment already has a value, and adds its name to
# PEFT_EMBED_NATIVE_ENV.
peft_embed_native_setting() {
  export "$1=${!1:-$2}"
  PEFT_EMBED_NATIVE_ENV+=("$1")
}

# On AMD CPUs, prepends scripts/lib/mkl-vendor-shim.c, built once with cc into PEFT_EMBED_HOME, to LD_PRELOAD: MKL
# then uses its AVX-512 kernels there too (2.3x the matrix throughput of its AVX2 fallback on Zen 5). Without a C
# compiler it says so and leaves MKL as it is. PEFT_EMBED_MKL_SHIM=0 turns it off.
peft_embed_mkl_shim() {
  if [[ "${PEFT_EMBED_MKL_SHIM:-1}" == 0 ]] || ! grep -q -m1 AuthenticAMD /proc/cpuinfo 2>/dev/null; then
    return 0
  fi
  local src="$ROOT/scripts/lib/mkl-vendor-shim.c" so="$PEFT_EMBED_HOME/native/mkl-vendor-shim.so"
  if [[ ! -f "$so" || "$src" -nt "$so" ]]; then
    if ! command -v cc > /dev/null; then
      echo "peft-embed: no C compiler (cc), so MKL keeps its AVX2 kernels on this AMD CPU (about half speed)" >&2
      return 0
    fi
    mkdir -p "${so%/*}"
    # Built under a private name, then renamed: scripts starting at once never load a half-written library.
    if ! cc -shared -fPIC -O2 -o "$so.$$" "$src" || ! mv -f "$so.$$" "$so"; then
      rm -f "$so.$$"
      echo "peft-embed: could not build $so, so MKL keeps its AVX2 kernels on this AMD CPU (about half speed)" >&2
      return 0
    fi
  fi
  case ":${LD_PRELOAD:-}:" in
    *":$so:"*) ;;
    *) export LD_PRELOAD="$so${LD_PRELOAD:+:$LD_PRELOAD}" ;;
  esac
}

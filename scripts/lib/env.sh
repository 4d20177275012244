# Shared by the scripts: where caches live, how to build, and the JVM flags every run needs.
PEFT_EMBED_HOME="${PEFT_EMBED_HOME:-$HOME/.cache/peft-embed}"
export PEFT_EMBED_HOME
export SPARK_LOCAL_IP="${SPARK_LOCAL_IP:-127.0.0.1}"

# Rebuilds target/classes and the classpath file when any source or the POM is newer than the last build.
peft_embed_build() {
  local stamp="$ROOT/target/.build-stamp"
  if [[ -f "$stamp" && -f "$ROOT/target/classpath.txt" ]] \
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

peft_embed_jvm_flags() {
  echo "-Dai.djl.offline=true -DDJL_CACHE_DIR=$PEFT_EMBED_HOME/djl -Djna.tmpdir=$PEFT_EMBED_HOME/jna" \
    "-Dpeftembed.home=$PEFT_EMBED_HOME -Dlog4j2.configurationFile=$ROOT/conf/log4j2.properties" \
    "-Dpeftembed.root=$ROOT"
}

# shellcheck shell=bash
# Sourced by the scripts that run a Java server for the tests from Maven Central (kafka.sh, s3proxy.sh).
#
#   maven_classpath NAME POM_DIR CACHE_DIR WHAT
#
# prints the runtime classpath of POM_DIR/pom.xml's dependencies, resolving it with Maven into the local Maven
# repository the first time. It is cached in CACHE_DIR per pom.xml content, so later starts need neither Maven
# nor the network, and resolved again when a jar it names has gone (a cleaned ~/.m2). NAME prefixes the
# messages, which go to stderr; WHAT names what is fetched.
maven_classpath() {
  local name="$1" pom="$2/pom.xml" cache="$3" what="$4"
  local key cpfile started
  key="$(sha1sum "$pom" | cut -c1-12)"
  cpfile="$cache/classpath-$key.txt"
  if [ -s "$cpfile" ] && tr ':' '\n' <"$cpfile" | while read -r jar; do [ -f "$jar" ] || exit 1; done; then
    cat "$cpfile"
    return
  fi
  if ! command -v mvn >/dev/null; then
    echo "$name: Maven (mvn) is needed to fetch $what from Maven Central" >&2
    return 1
  fi
  echo "$name: fetching $what and its dependencies from Maven Central (first run only)" >&2
  mkdir -p "$cache"
  started=$SECONDS
  if ! mvn -q -B -f "$pom" dependency:build-classpath -Dmdep.outputFile="$cpfile.tmp" >"$cache/mvn.log" 2>&1; then
    tail -n 30 "$cache/mvn.log" >&2
    echo "$name: Maven could not resolve $what (log: $cache/mvn.log)" >&2
    return 1
  fi
  mv "$cpfile.tmp" "$cpfile"
  echo "$name: fetched $(tr ':' '\n' <"$cpfile" | wc -l) jars in $((SECONDS - started)) s" >&2
  cat "$cpfile"
}

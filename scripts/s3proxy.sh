#!/usr/bin/env bash
# A real S3-compatible server for the integration tests: S3Proxy (org.gaul:s3proxy) fetched from Maven Central
# with Maven (no other download), storing objects in a local folder, listening on loopback only.
#
#   bash scripts/s3proxy.sh start|stop|status
#
# S3PROXY_PORT (default 9000) is the port; clients sign with S3PROXY_IDENTITY / S3PROXY_CREDENTIAL (defaults
# mimascota-test / mimascota-test-secret, what the tests' s3TestCredentials expect), AWS signature v2 or v4,
# path-style bucket addressing. State (classpath, configuration, objects, pid, log) lives under
# S3PROXY_HOME_DIR (default ~/.cache/mimascota-s3proxy), one instance folder per port; the objects are test
# data and are wiped at each start. S3PROXY_HEAP overrides the JVM heap flags. `start` is a no-op when it
# already runs.
set -euo pipefail

here="$(cd "$(dirname "$0")/s3proxy" && pwd)"
# shellcheck source=scripts/lib/maven-classpath.sh
source "$(dirname "$0")/lib/maven-classpath.sh"
# shellcheck source=scripts/lib/server-process.sh
source "$(dirname "$0")/lib/server-process.sh"
home="${S3PROXY_HOME_DIR:-${HOME:-/tmp}/.cache/mimascota-s3proxy}"
port="${S3PROXY_PORT:-9000}"
identity="${S3PROXY_IDENTITY:-mimascota-test}"
credential="${S3PROXY_CREDENTIAL:-mimascota-test-secret}"
heap="${S3PROXY_HEAP:--Xms64m -Xmx256m}"
start_timeout="${S3PROXY_START_TIMEOUT:-60}"
java="${JAVA_HOME:+$JAVA_HOME/bin/}java"

instance="$home/instance-$port"
logfile="$instance/s3proxy.log"
props="$instance/s3proxy.conf"
datadir="$instance/data"

name=s3proxy
pidfile="$instance/s3proxy.pid"
process_pattern='org\.gaul\.s3proxy\.Main'
address="http://127.0.0.1:$port"
stop_grace=20

# An S3 server answers an unsigned request with an S3 error and its request id header; anything else on the
# port (or a server still starting) does not.
answers_s3() {
  local response
  response="$(
    exec 2>/dev/null 3<>"/dev/tcp/127.0.0.1/$port" || exit 1
    printf 'GET / HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nConnection: close\r\n\r\n' "$port" >&3
    timeout 5 cat <&3
  )" || return 1
  grep -qi '^x-amz-request-id:' <<<"${response//$'\r'/}"
}

# filesystem-nio2 rather than the older "filesystem" provider: S3Proxy 2.6.0 logs that one as deprecated, and
# with it a DeleteObject that follows a ListObjects took 10 s here.
write_properties() {
  # Test data only: each start begins with an empty store, so runs never see each other's buckets.
  rm -rf "$datadir"
  mkdir -p "$datadir"
  cat >"$props" <<EOF
# Written by scripts/s3proxy.sh: objects in a local folder, loopback only, one fixed test identity.
s3proxy.endpoint=http://127.0.0.1:$port
s3proxy.authorization=aws-v2-or-v4
s3proxy.identity=$identity
s3proxy.credential=$credential
jclouds.provider=filesystem-nio2
jclouds.filesystem.basedir=$datadir
# The nio2 provider insists on a backend identity, which a local folder does not use.
jclouds.identity=local
jclouds.credential=local
EOF
}

start() {
  if running; then
    say "already running (pid $(pid_of)) on $address"
    return 0
  fi
  if port_open "$port"; then
    answers_s3 || fail "127.0.0.1:$port is taken by something that is not an S3 server (set S3PROXY_PORT)"
    say "an S3 server this script did not start already answers on $address; using it"
    return 0
  fi
  local cp started pid
  cp="$(maven_classpath s3proxy "$here" "$home" "org.gaul:s3proxy")"
  started=$SECONDS
  mkdir -p "$instance"
  write_properties
  say "starting S3Proxy on $address (log $logfile)"
  # setsid: the server outlives this script and is not hit by signals sent to the caller's process group.
  # shellcheck disable=SC2086 # heap holds several JVM flags on purpose
  setsid "$java" $heap -XX:+UseSerialGC -Djava.awt.headless=true \
    -Dlogback.configurationFile="$here/logback.xml" -cp "$cp" org.gaul.s3proxy.Main --properties "$props" \
    </dev/null >>"$logfile" 2>&1 &
  pid=$!
  echo "$pid" >"$pidfile"
  await_ready "$pid" "$logfile" "$start_timeout" answers_s3
  say "ready on $address in $((SECONDS - started)) s (pid $pid)"
}

server_command "$@"

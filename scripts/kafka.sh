#!/usr/bin/env bash
# A real Apache Kafka broker for the integration tests: fetched from Maven Central with Maven (no tarball, no
# other download), run in KRaft mode as one combined broker+controller node listening on loopback only.
#
#   bash scripts/kafka.sh start|stop|status
#
# KAFKA_PORT (default 9092) is the client port, KAFKA_CONTROLLER_PORT (default KAFKA_PORT+1) the controller's;
# state (classpath, storage, pid, log) lives under KAFKA_HOME_DIR (default ~/.cache/mimascota-kafka), one
# instance folder per port. KAFKA_HEAP overrides the JVM heap flags. `start` is a no-op when it already runs.
# With KAFKA_SASL_SSL_PORT set, the broker also listens there with TLS (a throw-away self-signed certificate
# for 127.0.0.1 made with openssl: <instance>/tls/cert.pem, the one a client must trust) and SASL PLAIN,
# SCRAM-SHA-256 and SCRAM-SHA-512 for one user, KAFKA_SASL_USERNAME / KAFKA_SASL_PASSWORD (defaults
# mimascota / mimascota-secret), as managed Kafka services require.
set -euo pipefail

here="$(cd "$(dirname "$0")/kafka" && pwd)"
# shellcheck source=scripts/lib/maven-classpath.sh
source "$(dirname "$0")/lib/maven-classpath.sh"
# shellcheck source=scripts/lib/server-process.sh
source "$(dirname "$0")/lib/server-process.sh"
home="${KAFKA_HOME_DIR:-${HOME:-/tmp}/.cache/mimascota-kafka}"
port="${KAFKA_PORT:-9092}"
controller_port="${KAFKA_CONTROLLER_PORT:-$((port + 1))}"
heap="${KAFKA_HEAP:--Xms128m -Xmx512m}"
start_timeout="${KAFKA_START_TIMEOUT:-120}"
java="${JAVA_HOME:+$JAVA_HOME/bin/}java"
javac="${JAVA_HOME:+$JAVA_HOME/bin/}javac"

sasl_port="${KAFKA_SASL_SSL_PORT:-}"
sasl_user="${KAFKA_SASL_USERNAME:-mimascota}"
sasl_password="${KAFKA_SASL_PASSWORD:-mimascota-secret}"

instance="$home/instance-$port"
tlsdir="$instance/tls"
logfile="$instance/kafka.log"
props="$instance/server.properties"
datadir="$instance/data"

name=kafka
pidfile="$instance/kafka.pid"
process_pattern='kafka\.Kafka'
address="127.0.0.1:$port"

# The broker's version is the pom's; the classpath is resolved once per pom.xml content (scripts/lib).
classpath() {
  local version
  version="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/pom.xml")"
  maven_classpath kafka "$here" "$home" "org.apache.kafka:kafka_2.13:$version"
}

# Compiled once next to the classpath so each readiness probe is one short JVM run.
ready_check() {
  local cp="$1" classes="$home/ready-check"
  if [ ! -f "$classes/ReadyCheck.class" ] || [ "$here/ReadyCheck.java" -nt "$classes/ReadyCheck.class" ]; then
    mkdir -p "$classes"
    "$javac" -nowarn -cp "$cp" -d "$classes" "$here/ReadyCheck.java"
  fi
  "$java" -Xmx64m -Dlog4j2.configurationFile="$here/log4j2.properties" \
    -cp "$cp:$classes" ReadyCheck "127.0.0.1:$port" >/dev/null 2>&1
}

broker_ready() { port_open "$port" && ready_check "$1"; }

write_properties() {
  mkdir -p "$datadir"
  cat >"$props" <<EOF
# Written by scripts/kafka.sh: single-node KRaft (broker + controller), loopback only, for tests.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$datadir
num.partitions=1
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=2
num.recovery.threads.per.data.dir=1
log.retention.hours=24
EOF
  if [ -n "$sasl_port" ]; then
    make_certificate
    # Later keys win: the listener lists are restated with the secured one added.
    cat >>"$props" <<EOF
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port,SASL_SSL://127.0.0.1:$sasl_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port,SASL_SSL://127.0.0.1:$sasl_port
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL
sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$sasl_user="$sasl_password";
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
ssl.keystore.type=PEM
ssl.keystore.location=$tlsdir/server.pem
EOF
  fi
}

# A self-signed certificate for 127.0.0.1 and its key (PKCS#8, unencrypted) in one PEM keystore file.
make_certificate() {
  [ -s "$tlsdir/server.pem" ] && return
  command -v openssl >/dev/null || fail "openssl is needed to make the TLS certificate of KAFKA_SASL_SSL_PORT"
  mkdir -p "$tlsdir"
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=127.0.0.1" \
    -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
    -keyout "$tlsdir/key.pem" -out "$tlsdir/cert.pem" >/dev/null 2>&1 || fail "openssl could not make a certificate"
  cat "$tlsdir/key.pem" "$tlsdir/cert.pem" >"$tlsdir/server.pem"
}

start() {
  if running; then
    say "already running (pid $(pid_of)) on 127.0.0.1:$port"
    return 0
  fi
  local cp started pid
  cp="$(classpath)"
  if port_open "$port"; then
    if ready_check "$cp"; then
      say "a broker this script did not start already answers on 127.0.0.1:$port; using it"
      return 0
    fi
    fail "127.0.0.1:$port is taken by something that is not a Kafka broker (set KAFKA_PORT)"
  fi
  port_open "$controller_port" && fail "controller port 127.0.0.1:$controller_port is taken (set KAFKA_CONTROLLER_PORT)"
  started=$SECONDS
  write_properties
  if [ ! -f "$datadir/meta.properties" ]; then
    say "formatting the KRaft storage in $datadir"
    local cluster_id
    cluster_id="$("$java" -cp "$cp" kafka.tools.StorageTool random-uuid)"
    local scram=()
    if [ -n "$sasl_port" ]; then
      for mechanism in SCRAM-SHA-256 SCRAM-SHA-512; do
        scram+=(--add-scram "$mechanism=[name=$sasl_user,password=$sasl_password]")
      done
    fi
    "$java" -Xmx256m -Dlog4j2.configurationFile="$here/log4j2.properties" -cp "$cp" \
      kafka.tools.StorageTool format -t "$cluster_id" -c "$props" --ignore-formatted \
      ${scram[@]+"${scram[@]}"} >>"$logfile" 2>&1 ||
      fail "formatting the storage failed (log: $logfile)"
  fi
  say "starting the broker on 127.0.0.1:$port (controller 127.0.0.1:$controller_port, log $logfile)"
  # setsid: the broker outlives this script and is not hit by signals sent to the caller's process group.
  # shellcheck disable=SC2086 # heap holds several JVM flags on purpose
  setsid "$java" $heap -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$here/log4j2.properties" -cp "$cp" kafka.Kafka "$props" \
    </dev/null >>"$logfile" 2>&1 &
  pid=$!
  echo "$pid" >"$pidfile"
  say "waiting for it to accept connections and serve metadata (pid $pid)"
  await_ready "$pid" "$logfile" "$start_timeout" broker_ready "$cp"
  say "ready on 127.0.0.1:$port in $((SECONDS - started)) s (pid $pid)"
}

server_command "$@"

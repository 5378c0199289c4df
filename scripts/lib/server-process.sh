# shellcheck shell=bash disable=SC2154 # name, pidfile, process_pattern and address are the caller's
# Sourced by the scripts that run a test server in the background (kafka.sh, s3proxy.sh): the pid-file
# bookkeeping, stop, status and the start|stop|status command line, so each script only says how its server
# starts and how to tell it is ready.
#
# The caller sets, before calling any of these:
#   name             prefix of every message ("kafka")
#   pidfile          where start wrote the server's pid
#   process_pattern  a regular expression the server's command line matches, so that a pid the system has
#                    since given to another process is never taken for the server (nor killed)
#   address          where it listens, for messages ("127.0.0.1:9092")
#   stop_grace       optional: how long `stop` waits after SIGTERM before SIGKILL (seconds, default 30)
# and defines `start`.

say() { echo "$name: $*"; }
fail() {
  echo "$name: $*" >&2
  exit 1
}

pid_of() { if [ -f "$pidfile" ]; then cat "$pidfile"; fi; }

running() {
  local pid
  pid="$(pid_of)"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null &&
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "$process_pattern"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# await_ready PID LOGFILE TIMEOUT_SECONDS CHECK...: runs CHECK (a command and its arguments) until it succeeds;
# fails with the log's tail if the server exits first, or stops it once the timeout has passed.
await_ready() {
  local pid="$1" logfile="$2" timeout="$3" started=$SECONDS
  shift 3
  while ! "$@"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 40 "$logfile" >&2
      rm -f "$pidfile"
      fail "the server exited during start-up (log: $logfile)"
    fi
    if [ $((SECONDS - started)) -ge "$timeout" ]; then
      tail -n 40 "$logfile" >&2
      stop
      fail "the server was not ready within $timeout s (log: $logfile)"
    fi
    sleep 0.5
  done
}

# SIGTERM, then SIGKILL if it has not exited within the grace period.
stop() {
  if ! running; then
    rm -f "$pidfile"
    say "not running on $address"
    return 0
  fi
  local pid grace="${stop_grace:-30}"
  pid="$(pid_of)"
  say "stopping (pid $pid)"
  kill -TERM "$pid"
  for _ in $(seq 1 $((grace * 2))); do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$pidfile"
      say "stopped"
      return 0
    fi
    sleep 0.5
  done
  say "no clean exit within $grace s; killing it"
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$pidfile"
}

status() {
  if running; then
    say "running (pid $(pid_of)) on $address"
  else
    say "not running on $address"
    return 3
  fi
}

# server_command "$@": the script's command line, start|stop|status.
server_command() {
  case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) status ;;
    *)
      echo "usage: $0 start|stop|status" >&2
      exit 2
      ;;
  esac
}

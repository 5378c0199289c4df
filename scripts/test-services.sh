#!/usr/bin/env bash
# Brings up the real servers the integration tests use: PostgreSQL and Redis (started only when they are not
# already answering), the Apache Kafka broker (scripts/kafka.sh) and the S3-compatible server S3Proxy
# (scripts/s3proxy.sh). `down` stops only what this script started.
set -euo pipefail
cd "$(dirname "$0")/.."
state=.tmp/test-services
mkdir -p "$state"

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }

wait_for() { # name, check-function
  for _ in $(seq 1 60); do "$2" && return 0; sleep 0.5; done
  echo "test-services: $1 did not come up" >&2
  return 1
}

up() {
  if pg_up; then echo "test-services: PostgreSQL already running"; else
    echo "test-services: starting PostgreSQL"
    if command -v pg_ctlcluster >/dev/null; then
      pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
    else
      echo "test-services: no PostgreSQL found; install PostgreSQL 15+ or set TEST_DATABASE_URL" >&2
      return 1
    fi
    touch "$state/started-postgres"
    wait_for PostgreSQL pg_up
  fi
  if redis_up; then echo "test-services: Redis already running"; else
    echo "test-services: starting Redis"
    command -v redis-server >/dev/null || { echo "test-services: no redis-server found" >&2; return 1; }
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
      --dir "$PWD/$state" --logfile "$PWD/$state/redis.log" --pidfile "$PWD/$state/redis.pid"
    touch "$state/started-redis"
    wait_for Redis redis_up
  fi
  bash scripts/kafka.sh start
  bash scripts/s3proxy.sh start
}

down() {
  bash scripts/s3proxy.sh stop || true
  bash scripts/kafka.sh stop || true
  if [ -f "$state/started-redis" ]; then redis-cli -h 127.0.0.1 -p 6379 shutdown nosave || true; rm -f "$state/started-redis"; fi
  if [ -f "$state/started-postgres" ]; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main stop || true
    rm -f "$state/started-postgres"
  fi
}

case "${1:-up}" in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# Auth benchmarks (one command: `npm run bench:auth`, or `bash bench/auth.sh`). See BENCHMARKS.md, "Auth".
# Needs PostgreSQL (creates and drops its own database), redis-server (a private instance) and wrk
# (installed with apt-get when missing and we are root). The orchestrator and its load runs on CPU 1; the
# services it starts are pinned to CPU 0. Settings: BENCH_SECONDS, BENCH_SCALE_USERS, BENCH_DATABASE_URL.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq wrk >/dev/null
  else echo "auth bench: install wrk first" >&2; exit 1; fi
fi
command -v redis-server >/dev/null || { echo "auth bench: redis-server is required" >&2; exit 1; }
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
  exec taskset -c 1 node bench/auth/main.ts
fi
exec node bench/auth/main.ts

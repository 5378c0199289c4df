#!/usr/bin/env bash
# Gateway benchmark (one command: `bash bench/gateway.sh`). On loopback, against one small Node upstream:
#   1. the upstream directly
#   2. our gateway, full chain: JWT verification (EdDSA, verified-token cache), Redis rate limit + revocation
#      check (one EVALSHA per request, limits raised so nothing is refused), metrics, request ids
#   3. nginx proxy_pass with upstream keep-alive, one worker, access log off
# Each is driven by wrk at full speed (peak req/s, p50/p99), then 1 and 2 again at half of the gateway's peak
# (wrk's per-request delay spreads the load) to get the latency the gateway adds at a realistic load;
# finally the upstream is killed and, once the breaker is open, the gateway's 503s at that same rate.
# Needs redis-server, wrk and nginx (apt-get installs the last two when missing and we are root).
# Settings: BENCH_DURATION (s, default 10), BENCH_CONNECTIONS (default 50). Results: bench/results/.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
DURATION=${BENCH_DURATION:-10}
CONNS=${BENCH_CONNECTIONS:-50}
UP_PORT=18081 GW_PORT=18080 NGINX_PORT=18082 REDIS_PORT=18379 GW_OPS_PORT=18090
work=$(mktemp -d /tmp/gateway-bench.XXXXXX)
mkdir -p bench/results
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

need=()
command -v wrk >/dev/null || need+=(wrk)
command -v nginx >/dev/null || need+=(nginx-light)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null
  else echo "gateway bench: install ${need[*]} first" >&2; exit 1; fi
fi
command -v redis-server >/dev/null || { echo "gateway bench: redis-server is required" >&2; exit 1; }

wait_port() { for _ in $(seq 1 100); do (echo >/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 did not open" >&2; exit 1; }

redis-server --port $REDIS_PORT --bind 127.0.0.1 --save "" --appendonly no --daemonize no >"$work/redis.log" 2>&1 &
pids+=($!)
BENCH_UPSTREAM_PORT=$UP_PORT BENCH_TOKEN_FILE="$work/token" node bench/gateway-upstream.ts >"$work/upstream.log" 2>&1 &
pids+=($!)
wait_port $REDIS_PORT
wait_port $UP_PORT
for pid in "${pids[@]}"; do
  kill -0 "$pid" 2>/dev/null || { echo "gateway bench: a helper exited (port busy?); see $work/*.log" >&2; cat "$work"/*.log >&2; exit 1; }
done
TOKEN=$(cat "$work/token")

routes=$(cat <<JSON
{"upstreams":{"bench":{"url":"http://127.0.0.1:$UP_PORT","healthPath":"/health"}},
 "routes":[{"prefix":"/api/","upstream":"bench"}]}
JSON
)
PORT=$GW_PORT OPS_PORT=$GW_OPS_PORT HOST=127.0.0.1 NODE_ENV=production LOG_LEVEL=warn REDIS_URL=redis://127.0.0.1:$REDIS_PORT \
  GATEWAY_ROUTES="$routes" JWKS_URL="http://127.0.0.1:$UP_PORT/.well-known/jwks.json" \
  RATE_LIMIT_USER=1000000000 RATE_LIMIT_IP=1000000000 \
  node services/gateway/src/main.ts >"$work/gateway.log" 2>&1 &
pids+=($!)

cat >"$work/nginx.conf" <<NGINX
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/body; proxy_temp_path $work/proxy; fastcgi_temp_path $work/fcgi;
  uwsgi_temp_path $work/uwsgi; scgi_temp_path $work/scgi;
  upstream bench { server 127.0.0.1:$UP_PORT; keepalive 128; }
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location / {
      proxy_pass http://bench;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
NGINX
nginx -c "$work/nginx.conf" -p "$work" -g "daemon on;" 2>>"$work/nginx-error.log"
wait_port $GW_PORT
wait_port $NGINX_PORT

auth=(-H "Authorization: Bearer $TOKEN")
check=$(curl -s -o /dev/null -w '%{http_code}' "${auth[@]}" "http://127.0.0.1:$GW_PORT/api/bench")
[ "$check" = 200 ] || { echo "gateway answered $check; log:"; cat "$work/gateway.log"; exit 1; }

# run <label> <url> [delay-ms] [answers: ok (default) | refused]: prints "req/s p50_ms p99_ms"; fails when an
# answer is not as expected (any non-2xx; or, for refused, any 2xx: the resilience test checks each refusal's
# status, body and Retry-After).
run() {
  local label=$1 url=$2 delay=${3:-0} answers=${4:-ok} script="$work/delay.lua"
  printf 'function delay() return %s end\n' "$delay" >"$script"
  wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency -s "$script" "${auth[@]}" "$url" >"$work/$label.txt"
  cp "$work/$label.txt" "bench/results/gateway-$label.raw"
  awk -v answers="$answers" '
    function ms(v) { if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
    /Requests\/sec/ { rps=$2 } / 50%/ { p50=ms($2) } / 99%/ { p99=ms($2) }
    /requests in/ { total=$1 } /Non-2xx/ { bad=$5 }
    END {
      if (answers == "ok" && bad > 0) { print "non-2xx responses: " bad > "/dev/stderr"; exit 1 }
      if (answers == "refused" && total != bad) { print total - bad " answers were 2xx with the upstream dead" > "/dev/stderr"; exit 1 }
      printf "%.0f %.3f %.3f\n", rps, p50, p99
    }
  ' "$work/$label.txt"
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "== warm-up (load average $load_before)"
wrk -t1 -c"$CONNS" -d3s "${auth[@]}" "http://127.0.0.1:$GW_PORT/api/bench" >/dev/null
wrk -t1 -c"$CONNS" -d2s "http://127.0.0.1:$NGINX_PORT/api/bench" >/dev/null
wrk -t1 -c"$CONNS" -d2s "http://127.0.0.1:$UP_PORT/api/bench" >/dev/null

echo "== peak (${DURATION}s each, $CONNS connections, 1 wrk thread)"
read -r d_rps d_p50 d_p99 < <(run direct "http://127.0.0.1:$UP_PORT/api/bench")
read -r g_rps g_p50 g_p99 < <(run gateway "http://127.0.0.1:$GW_PORT/api/bench")
read -r n_rps n_p50 n_p99 < <(run nginx "http://127.0.0.1:$NGINX_PORT/api/bench")

# Half of the gateway's peak: each connection waits CONNS/(rate) between requests.
half=$((g_rps / 2))
delay=$(awk -v c="$CONNS" -v r="$half" 'BEGIN { printf "%d", c * 1000 / r }')
echo "== half load: target $half req/s (per-connection delay ${delay} ms)"
read -r hd_rps hd_p50 hd_p99 < <(run direct-half "http://127.0.0.1:$UP_PORT/api/bench" "$delay")
read -r hg_rps hg_p50 hg_p99 < <(run gateway-half "http://127.0.0.1:$GW_PORT/api/bench" "$delay")

# The upstream dies: once the gateway's breaker is open it answers 503 itself without calling anyone. The
# same half-load rate again, measured on those refusals (the contract's goal: p99 under 5 ms while open).
kill "${pids[1]}" 2>/dev/null || true
for _ in $(seq 1 50); do
  curl -s "http://127.0.0.1:$GW_OPS_PORT/circuit-breakers" | grep -q '"state":"open"' && break
  curl -s -o /dev/null "${auth[@]}" "http://127.0.0.1:$GW_PORT/api/bench" || true
  sleep 0.1
done
curl -s "http://127.0.0.1:$GW_OPS_PORT/circuit-breakers" | grep -q '"state":"open"' \
  || { echo "gateway bench: the breaker did not open; log:" >&2; cat "$work/gateway.log" >&2; exit 1; }
open_code=$(curl -s -o /dev/null -w '%{http_code}' "${auth[@]}" "http://127.0.0.1:$GW_PORT/api/bench")
[ "$open_code" = 503 ] || { echo "gateway bench: open breaker answered $open_code, not 503" >&2; exit 1; }
echo "== breaker open (upstream killed): $half req/s target, then full speed; answers must all be refusals"
read -r o_rps o_p50 o_p99 < <(run breaker-open "http://127.0.0.1:$GW_PORT/api/bench" "$delay" refused)
# At full speed: what one gateway process can refuse per second (the cost of a refusal, as under a flood).
read -r of_rps of_p50 of_p99 < <(run breaker-open-peak "http://127.0.0.1:$GW_PORT/api/bench" 0 refused)

summary=$(cat <<TXT
machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(uname -r), node $(node --version), $(nginx -v 2>&1 | cut -d/ -f2), $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)
                        req/s     p50 ms    p99 ms
direct upstream      $(printf '%8s  %8s  %8s' "$d_rps" "$d_p50" "$d_p99")
gateway (full chain) $(printf '%8s  %8s  %8s' "$g_rps" "$g_p50" "$g_p99")
nginx proxy_pass     $(printf '%8s  %8s  %8s' "$n_rps" "$n_p50" "$n_p99")
gateway / nginx throughput: $(awk -v a="$g_rps" -v b="$n_rps" 'BEGIN { printf "%.0f%%", 100*a/b }')   gateway / direct: $(awk -v a="$g_rps" -v b="$d_rps" 'BEGIN { printf "%.0f%%", 100*a/b }')
half load ($half req/s target): direct $hd_rps req/s p50 $hd_p50 p99 $hd_p99 ms; gateway $hg_rps req/s p50 $hg_p50 p99 $hg_p99 ms
added at half load: p50 $(awk -v a="$hg_p50" -v b="$hd_p50" 'BEGIN { printf "%.3f ms", a-b }'), p99 $(awk -v a="$hg_p99" -v b="$hd_p99" 'BEGIN { printf "%.3f ms", a-b }')
breaker open (upstream killed), same rate: $o_rps req/s, all refused; p50 $o_p50 ms, p99 $o_p99 ms (goal: p99 < 5 ms)
breaker open, full speed: $of_rps refusals/s; p50 $of_p50 ms, p99 $of_p99 ms
load average (1/5/15 min) before: $load_before, after: $(cut -d' ' -f1-3 /proc/loadavg)
TXT
)
echo "$summary"
echo "$summary" >bench/results/gateway-latest.txt

#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Gateway benchmark (not a test). Starts the echo backend, Debian's nginx as a plain gRPC
# reverse proxy (grpc_pass) to it, the gateway twice (bench.auth_off = true, and fully on:
# signatures + replay protection + rate limits + audit), then drives each for a fixed time with
# bench's asynchronous load generator on the same small unary method, and cross-checks the
# unsigned rows with h2load. Prints a Markdown table.
#
# Build first:  cmake -S . -B build-bench -G Ninja -DREGSUITE_BENCH=ON &&
#               cmake --build build-bench --target regsuite-gateway regctl gateway_echo_backend \
#                 gateway_loadgen gateway_microbench
# Run:          REGSUITE_BIN_DIR=$PWD/build-bench/bin bench/gateway/run.sh
# PostgreSQL and Redis: the REGSUITE_TEST_* exports of tools/dev-env.sh when set; otherwise
# the script starts its own under var/dev-bench-gateway (ports BENCH_PG_PORT, BENCH_REDIS_PORT).
# Knobs: BENCH_SECONDS (10), BENCH_WARMUP (2), BENCH_CONCURRENCY (32), BENCH_CONNECTIONS (2),
#        BENCH_PAYLOAD_BYTES (64), BENCH_H2LOAD (1: run the h2load cross-check),
#        BENCH_ROWS (which loadgen rows: "direct nginx auth-off sha256 sm3"),
#        BENCH_PERF (a file: `perf record` the fully-on gateway during its HMAC-SHA256 row, with
#        BENCH_PERF_ARGS, default -g).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bin=${REGSUITE_BIN_DIR:-$root/build-bench/bin}
seconds=${BENCH_SECONDS:-10}
warmup=${BENCH_WARMUP:-2}
concurrency=${BENCH_CONCURRENCY:-32}
connections=${BENCH_CONNECTIONS:-2}
payload=${BENCH_PAYLOAD_BYTES:-64}
method=/regsuite.bench.v1.Bench/Echo
for tool in regsuite-gateway regctl gateway_echo_backend gateway_loadgen; do
  [[ -x $bin/$tool ]] || { echo "missing $bin/$tool (see the build line at the top)" >&2; exit 2; }
done
command -v nginx >/dev/null || { echo "nginx missing: apt-get install nginx-light" >&2; exit 2; }

# shellcheck source=../../tests/support/stores.sh
source "$root/tests/support/stores.sh"
own_stores=0
# shellcheck disable=SC2317 # called by with_work_dir's EXIT trap
stop_nginx_and_stores() {
  if [[ -f $work/nginx.pid ]]; then kill "$(cat "$work/nginx.pid")" 2>/dev/null || true; fi
  if ((own_stores)); then "$root/tools/dev-env.sh" bench-gateway "$BENCH_PG_PORT" "$BENCH_REDIS_PORT" stop || true; fi
}
on_exit=stop_nginx_and_stores
with_work_dir

if [[ -z ${REGSUITE_TEST_PG_PORT:-} ]]; then
  BENCH_PG_PORT=${BENCH_PG_PORT:-17532} BENCH_REDIS_PORT=${BENCH_REDIS_PORT:-17479}
  eval "$("$root/tools/dev-env.sh" bench-gateway "$BENCH_PG_PORT" "$BENCH_REDIS_PORT")"
  own_stores=1
fi
use_test_stores
new_master_key "$work"
export REGSUITE_LOG_LEVEL=${REGSUITE_LOG_LEVEL:-warn}

read -r backend_port nginx_port off_port off_http on_port on_http < <(free_ports 6)

"$bin/regctl" migrate >/dev/null
# Rate limits apply (one Redis token bucket per call) with a quota the run cannot reach.
app_key=bench-$(date +%s)
for sig in HMAC-SHA256 HMAC-SM3; do
  "$bin/regctl" client create "$app_key-$sig" --name "gateway benchmark" --method "$sig" \
    --allow "regsuite.bench.v1.Bench/*" --rate 1000000 --burst 1000000 \
    --secret-out "$work/$sig.secret" >/dev/null
done

"$bin/gateway_echo_backend" "127.0.0.1:$backend_port" >"$work/backend.log" 2>&1 &
backend_pid=$!
pids+=($!)

cat >"$work/nginx.conf" <<NGINX
worker_processes auto;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/nginx-body;
  proxy_temp_path $work/nginx-proxy;
  fastcgi_temp_path $work/nginx-fastcgi;
  # nginx closes a connection after 1000 requests by default (client and upstream side): raised,
  # so that nginx is not slowed by reconnections (and h2load, which does not reconnect, works).
  upstream echo { server 127.0.0.1:$backend_port; keepalive 64; keepalive_requests 1000000; }
  server {
    listen 127.0.0.1:$nginx_port http2;
    http2_max_concurrent_streams 1024;
    keepalive_requests 1000000;
    location / { grpc_pass grpc://echo; }
  }
}
NGINX
nginx -e "$work/nginx-error.log" -p "$work" -c "$work/nginx.conf"

gateway() {  # grpc_port http_port auth_off
  REGSUITE_SERVER_GRPC_LISTEN=127.0.0.1:$1 REGSUITE_HTTP_LISTEN=127.0.0.1:$2 \
    REGSUITE_BACKENDS_EXTRA="bench=127.0.0.1:$backend_port" REGSUITE_BENCH_AUTH_OFF=$3 \
    "$bin/regsuite-gateway" >"$work/gateway-$1.log" 2>&1 &
  pids+=($!)
}
gateway "$off_port" "$off_http" true
off_gateway=$!
gateway "$on_port" "$on_http" false
on_gateway=$!

up() {  # host:port answers the bench method (unsigned; through the signed gateway we only need health)
  "$bin/regctl" health "$1" >/dev/null 2>&1
}
for port in "$backend_port" "$nginx_port" "$off_port" "$on_port"; do
  for _ in $(seq 1 150); do up "127.0.0.1:$port" && continue 2; sleep 0.2; done
  echo "127.0.0.1:$port not up after 30 s" >&2
  tail -n 20 "$work"/*.log >&2
  exit 1
done

loadgen() {  # label port [signing args...]
  local label=$1 port=$2
  shift 2
  "$bin/gateway_loadgen" --target "127.0.0.1:$port" --method "$method" --concurrency "$concurrency" \
    --connections "$connections" --seconds "$seconds" --warmup "$warmup" --payload-bytes "$payload" \
    --label "$label" "$@"
}
load() { cut -d' ' -f1-3 /proc/loadavg; }

echo "# $(date -u +%FT%TZ) $(nproc) CPUs: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "# concurrency $concurrency over $connections connections, ${seconds} s measured after ${warmup} s warm-up, ${payload}-byte payload"
echo
echo "| path | tool | requests/s | p50 ms | p99 ms | ok | errors | load avg after (1/5/15 min) |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |"
row() {  # label tool loadgen-output
  read -r _ rps p50 p99 ok errors rest <<<"$3"
  echo "| $1 | $2 | $rps | $p50 | $p99 | $ok | $errors${rest:+ ($rest)} | $(load) |"
}
# shellcheck source=../cpu.sh
source "$root/bench/cpu.sh"
: >"$work/cpu.md"
redis_pid=$(listener_pid "$REGSUITE_TEST_REDIS_PORT")
pg_pid=$(listener_pid "$REGSUITE_TEST_PG_PORT")
measured() {  # label proxy-pid command...: runs the command, then notes the CPU per call in cpu.md
  local label=$1 proxy=$2 before=() after=() i
  shift 2
  local pids=("$proxy" "$backend_pid" "$redis_pid" "$pg_pid")
  ticks() { if [[ $1 == "$redis_pid" ]]; then cpu_ticks "$1" alone; else cpu_ticks "$1"; fi; }
  for i in "${!pids[@]}"; do before[i]=$(ticks "${pids[i]}"); done
  local out
  out=$("$@")
  for i in "${!pids[@]}"; do after[i]=$(ticks "${pids[i]}"); done
  echo "$out"
  read -r _ rps _ <<<"$out"
  # µs per call: ticks over the warm-up and the measured window, calls at the measured rate.
  local calls
  calls=$(awk -v r="$rps" -v w="$warmup" -v s="$seconds" 'BEGIN {print r * (w + s)}')
  local cells=""
  for i in "${!pids[@]}"; do
    if ((i == 0)) && [[ $proxy == "$backend_pid" ]]; then cells+=" - |"; continue; fi
    cells+=" $(awk -v d="$((after[i] - before[i]))" -v hz="$(getconf CLK_TCK)" -v n="$calls" \
      'BEGIN {printf "%.0f", (n > 0 ? d / hz * 1e6 / n : 0)}') |"
  done
  echo "| $label |$cells" >>"$work/cpu.md"
}
rows=" ${BENCH_ROWS:-direct nginx auth-off sha256 sm3} "
declare -A targets=([direct]=$backend_port [nginx]=$nginx_port [gateway-auth-off]=$off_port)
for label in direct nginx gateway-auth-off; do
  [[ $rows == *" ${label#gateway-} "* ]] || continue
  proxy=$backend_pid
  [[ $label == nginx ]] && proxy=$(cat "$work/nginx.pid")
  [[ $label == gateway-auth-off ]] && proxy=$off_gateway
  row "$label" loadgen "$(measured "$label" "$proxy" loadgen "$label" "${targets[$label]}")"
done
for sig in HMAC-SHA256 HMAC-SM3; do
  [[ $rows == *" $(tr '[:upper:]' '[:lower:]' <<<"${sig#HMAC-}" | tr -d -) "* ]] || continue
  perf_pid=
  if [[ -n ${BENCH_PERF:-} && $sig == HMAC-SHA256 ]]; then
    read -ra perf_args <<<"${BENCH_PERF_ARGS:--g}"
    perf record "${perf_args[@]}" -o "$BENCH_PERF" -p "$on_gateway" -- sleep "$(awk -v w="$warmup" -v s="$seconds" 'BEGIN {print w + s}')" 2>"$work/perf.log" &
    perf_pid=$!
  fi
  row "gateway-full ($sig)" loadgen "$(measured "gateway-full ($sig)" "$on_gateway" loadgen \
    "gateway-full-$sig" "$on_port" --app-key "$app_key-$sig" --secret-file "$work/$sig.secret" \
    --sign-method "$sig")"
  [[ -z $perf_pid ]] || wait "$perf_pid"
done

if [[ ${BENCH_H2LOAD:-1} == 1 ]] && command -v h2load >/dev/null; then
  # A gRPC request frame: uncompressed flag, 4-byte big-endian length, the payload.
  python3 -c 'import struct,sys; n=int(sys.argv[1]); sys.stdout.buffer.write(b"\0"+struct.pack(">I",n)+b"x"*n)' \
    "$payload" >"$work/frame.bin"
  per_conn=$(((concurrency + connections - 1) / connections))
  for label in direct nginx gateway-auth-off; do
    out=$(h2load -D "$seconds" --warm-up-time "$warmup" -c "$connections" -m "$per_conn" -d "$work/frame.bin" \
      -H 'content-type: application/grpc' -H 'te: trailers' \
      "http://127.0.0.1:${targets[$label]}$method" 2>&1) || true
    rps=$(sed -n 's/^finished in .*, \([0-9.]*\) req\/s.*/\1/p' <<<"$out")
    mean=$(awk '/^time for request:/ {print $5}' <<<"$out")
    codes=$(sed -n 's/^status codes: //p' <<<"$out")
    echo "| $label | h2load | ${rps%.*} | mean $mean | | ${codes%%, 0 3xx*} | | $(load) |"
  done
fi

echo
echo "CPU time per call (µs; ticks of the warm-up and measured window over calls at the measured rate):"
echo
echo "| path | proxy | backend | Redis | PostgreSQL |"
echo "| --- | ---: | ---: | ---: | ---: |"
cat "$work/cpu.md"

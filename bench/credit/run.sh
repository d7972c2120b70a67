#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Credit benchmark (issue 4): CheckSubject on cached subjects of a BENCH_SUBJECTS (default
# 100,000) subject data set, called directly on the service and through the gateway (signed,
# rate-limited, audited), beside the echo backend called directly in the same run (the gateway
# bench's reference); then BatchCheckSubjects of 1,000 subjects, p50/p99. Private
# PostgreSQL/Redis on ports 19452/19399 (var/dev-bench-credit). Not a test.
# Build first (bench targets):
#   cmake -S . -B build-bench -G Ninja -DREGSUITE_BENCH=ON && cmake --build build-bench \
#     --target credit-service regsuite-gateway regctl gateway_echo_backend gateway_loadgen
#   REGSUITE_BIN_DIR=$PWD/build-bench/bin bench/credit/run.sh      (run.sh stop: stop the stores)
# Knobs: BENCH_SECONDS (10), BENCH_CONCURRENCY (32), BENCH_CONNECTIONS (2), BENCH_PERF (a
# perf.data path: profile the credit service during the direct CheckSubject run).
set -euo pipefail
BENCH_NAME=bench-credit BENCH_PG_PORT=19452 BENCH_REDIS_PORT=19399
# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
seconds=${BENCH_SECONDS:-10}
concurrency=${BENCH_CONCURRENCY:-32}
connections=${BENCH_CONNECTIONS:-2}
export REGSUITE_LOG_LEVEL=${REGSUITE_LOG_LEVEL:-warn}

bench_python "$root/bench/credit/credit_bench.py" prepare "$work"
stores_psql -c "TRUNCATE credit.subjects CASCADE" \
  -c "\\copy credit.subjects (uscc, name) FROM '$work/subjects.csv' WITH (FORMAT csv)"
redis-cli -p "$REGSUITE_REDIS_PORT" flushall >/dev/null
bench_start credit
credit=$BENCH_TARGET
credit_pid=${bench_pids[-1]}
bench_python "$root/bench/credit/credit_bench.py" warm "$work"

# The gateway in front of the credit service, with a client whose quota the run cannot reach.
new_master_key "$work"
stores_psql -c "TRUNCATE gateway.clients CASCADE" >/dev/null
"$bin/regctl" client create bench-credit --name "credit benchmark" \
  --allow "regsuite.credit.v1.CreditService/*" --rate 1000000 --burst 1000000 \
  --secret-out "$work/client.secret" >/dev/null
read -r gw_port gw_http echo_port < <(free_ports 3)
REGSUITE_SERVER_GRPC_LISTEN=127.0.0.1:$gw_port REGSUITE_HTTP_LISTEN=127.0.0.1:$gw_http \
  REGSUITE_BACKENDS_CREDIT=$credit "$bin/regsuite-gateway" >"$work/gateway.log" 2>&1 &
bench_pids+=($!)
"$bin/gateway_echo_backend" "127.0.0.1:$echo_port" >"$work/echo.log" 2>&1 &
bench_pids+=($!)
for target in "127.0.0.1:$gw_port" "127.0.0.1:$echo_port"; do
  for _ in $(seq 1 150); do "$bin/regctl" health "$target" >/dev/null 2>&1 && continue 2; sleep 0.2; done
  echo "$target not up" >&2
  tail -n 20 "$work"/*.log >&2
  exit 1
done

loadgen() {  # label target method [args...]
  "$bin/gateway_loadgen" --label "$1" --target "$2" --method "$3" --concurrency "$concurrency" \
    --connections "$connections" --seconds "$seconds" --warmup 2 "${@:4}"
}
check=/regsuite.credit.v1.CreditService/CheckSubject
echo "# concurrency $concurrency over $connections connections, ${seconds} s after 2 s warm-up"
echo "| path | requests/s | p50 ms | p99 ms | ok | errors | load avg after |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | --- |"
row() {
  local rps p50 p99 ok errors rest
  read -r _ rps p50 p99 ok errors rest <<<"$2"
  echo "| $1 | $rps | $p50 | $p99 | $ok | $errors${rest:+ ($rest)} | $(cut -d' ' -f1-3 /proc/loadavg) |"
}
row "echo backend, direct (reference)" "$(loadgen echo "127.0.0.1:$echo_port" /regsuite.bench.v1.Bench/Echo)"
# BENCH_PERF=FILE: a perf profile of the credit service during the direct CheckSubject run.
if [[ -n ${BENCH_PERF:-} ]]; then
  perf record -F 999 -g -p "$credit_pid" -o "$BENCH_PERF" -- sleep "$((seconds + 1))" \
    >/dev/null 2>&1 &
fi
row "CheckSubject, direct" "$(loadgen direct "$credit" "$check" --requests-file "$work/requests.bin")"
row "CheckSubject, through the gateway (signed)" "$(loadgen gateway "127.0.0.1:$gw_port" "$check" \
  --requests-file "$work/requests.bin" --app-key bench-credit --secret-file "$work/client.secret")"
echo
bench_python "$root/bench/credit/credit_bench.py" batch "$work"

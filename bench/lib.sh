# shellcheck shell=bash source-path=SCRIPTDIR
# Shared by the service benchmarks (bench/<svc>/run.sh): a private PostgreSQL/Redis that stays
# between runs, a service started on free ports, Python message classes for the drivers.
# Source it after setting BENCH_NAME, BENCH_PG_PORT and BENCH_REDIS_PORT.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${REGSUITE_BIN_DIR:-$root/build/bin}
python=/usr/bin/python3
work=$(mktemp -d)
bench_pids=()
bench_cleanup() {
  local pid
  for pid in "${bench_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  # The services' logs of the last run stay beside the private stores.
  mkdir -p "$root/var/dev-$BENCH_NAME/last-run"
  cp "$work"/*.log "$root/var/dev-$BENCH_NAME/last-run/" 2>/dev/null || true
  rm -rf "$work"
}
trap bench_cleanup EXIT

# `run.sh stop` stops the private servers.
if [[ ${1:-} == stop ]]; then
  "$root/tools/dev-env.sh" "$BENCH_NAME" "$BENCH_PG_PORT" "$BENCH_REDIS_PORT" stop
  exit 0
fi
eval "$("$root/tools/dev-env.sh" "$BENCH_NAME" "$BENCH_PG_PORT" "$BENCH_REDIS_PORT")"
# shellcheck source=../tests/support/stores.sh
source "$root/tests/support/stores.sh"
use_test_stores
"$bin/regctl" migrate >/dev/null

# bench_start SERVICE [ENV=VALUE ...]: starts SERVICE-service on two free ports, waits until it
# answers SERVING, sets BENCH_TARGET=127.0.0.1:<grpc port>.
bench_start() {
  local service=$1 port metrics
  shift
  read -r port metrics < <(free_ports 2)
  env "$@" REGSUITE_SERVER_GRPC_LISTEN="127.0.0.1:$port" \
    REGSUITE_SERVER_METRICS_LISTEN="127.0.0.1:$metrics" \
    "$bin/$service-service" >"$work/$service.log" 2>&1 &
  bench_pids+=($!)
  for _ in $(seq 1 150); do
    if "$bin/regctl" health "127.0.0.1:$port" >/dev/null 2>&1; then
      BENCH_TARGET=127.0.0.1:$port
      export BENCH_TARGET
      return 0
    fi
    sleep 0.2
  done
  tail -n 20 "$work/$service.log" >&2
  echo "$service-service did not come up" >&2
  return 1
}

# bench_python SCRIPT [ARG...]: runs a Python driver with message classes for every proto and
# bench/benchlib.py on its path.
bench_python() {
  local script=$1
  shift
  if [[ ! -d $work/py ]]; then
    mkdir -p "$work/py"
    (cd "$root/protos" && find . -name '*.proto' -print0 | sort -z |
      xargs -0 protoc -I . -I /usr/include --python_out="$work/py")
    echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
  fi
  PYTHONPATH=$work/py:$root/bench "$python" "$script" "$@"
}

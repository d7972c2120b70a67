#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Licensing benchmark (issue 5): instant approvals (告知承诺 秒批) end to end through the gateway —
# SubmitApplication with every material and the commitment signed, for a clean subject each
# time, answered APPROVED with its certificate in the same call (the licensing service asks
# credit through the gateway first; the decision's events reach disclosure and exchange through
# the outbox and the gateway meanwhile).
# gateway_loadgen (C++, signed requests) offers BENCH_RATE submissions/s (default 100) open loop
# for 2 s of warm-up and BENCH_SECONDS (default 20) measured: p50/p99 latency from each call's
# scheduled moment, then the outcome of every submission read back, and the CPU time per
# submission of every process of the suite.
# The whole suite comes up with the README's command (deploy/local/stack.sh up) into its own
# instance, as for the scenario test (tests/e2e/scenario_stack.sh; ports shifted by 24000).
# Needs a built tree with the bench targets (-DREGSUITE_BENCH=ON, for gateway_loadgen):
# REGSUITE_BIN_DIR (default build/bin). Not a test.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export REGSUITE_BIN_DIR=${REGSUITE_BIN_DIR:-$here/../../build/bin}
rate=${BENCH_RATE:-100}
seconds=${BENCH_SECONDS:-20}
warmup=2
[[ -x $REGSUITE_BIN_DIR/gateway_loadgen ]] || {
  echo "no $REGSUITE_BIN_DIR/gateway_loadgen: configure with -DREGSUITE_BENCH=ON" >&2
  exit 2
}
# shellcheck source=../../tests/e2e/scenario_stack.sh
source "$here/../../tests/e2e/scenario_stack.sh"
# shellcheck source=../cpu.sh
source "$here/../cpu.sh"
LOG_TAG=bench-licensing
trap scenario_stack_stop EXIT
offset=${BENCH_PORT_OFFSET:-24000}
scenario_stack_start bench-licensing "$offset"
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
driver() {
  PYTHONPATH=$PY_GEN:$root/tests/e2e:$root/bench BENCH_GATEWAY=$GATEWAY BENCH_INSTANCE=$INSTANCE \
    "$python" "$here/licensing_bench.py" "$@"
}
sent=$(awk -v r="$rate" -v s="$seconds" -v w="$warmup" 'BEGIN {print int(r * (s + w) + 0.999)}')
driver prepare "$WORK/requests.bin" "$((sent + 100))"
{ read -r app_key && read -r secret; } <"$INSTANCE/demo-client.txt"
(umask 077 && printf '%s\n' "$secret" >"$WORK/client.secret")

names=(gateway licensing credit disclosure exchange inspection postgresql redis platform-stub)
proc_pids=()
for name in "${names[@]:0:6}"; do proc_pids+=("$(svc_pid "$INSTANCE" "$name")"); done
proc_pids+=("$(listener_pid $((PORT_POSTGRES + offset)))" \
  "$(listener_pid $((PORT_REDIS + offset)))" "${stub_pid:-}")
ticks() {  # Redis alone: its snapshot child may come and go
  local i
  for i in "${!proc_pids[@]}"; do
    if [[ -z ${proc_pids[i]} ]]; then echo 0; elif [[ ${names[i]} == redis ]]; then
      cpu_ticks "${proc_pids[i]}" alone; else cpu_ticks "${proc_pids[i]}"; fi
  done
}
mapfile -t before < <(ticks)
TIMEFORMAT="%U %S"
{ time "$REGSUITE_BIN_DIR/gateway_loadgen" --label instant-approval --target "$GATEWAY" \
  --method /regsuite.licensing.v1.LicensingService/SubmitApplication \
  --requests-file "$WORK/requests.bin" --rate "$rate" --seconds "$seconds" --warmup "$warmup" \
  --connections 2 --app-key "$app_key" --secret-file "$WORK/client.secret" \
  --timeline "${BENCH_TIMELINE:-0}" \
  >"$WORK/loadgen.out" 2>"$WORK/loadgen.err"; } 2>"$WORK/loadgen.time"
mapfile -t after < <(ticks)
cat "$WORK/loadgen.err" >&2
read -r _ ok_rate p50 p99 ok errors rest <"$WORK/loadgen.out"
echo "offered ${rate}/s open loop for ${seconds} s (after ${warmup} s warm-up): completed OK" \
  "${ok_rate}/s, latency p50 ${p50} ms, p99 ${p99} ms; ok ${ok}, errors ${errors}${rest:+ ($rest)}"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
# The events of every approval (licensing → disclosure, exchange; disclosure → exchange) must
# keep up: how long after the run their outboxes are empty, and how many calls carried them.
metric() {  # metric SERVICE NAME: the value of an unlabelled metric of SERVICE
  local var="PORT_${1^^}_METRICS"
  curl -fsS "http://127.0.0.1:$((${!var} + offset))/metrics" | awk -v n="$2" '$1 == n {print $2}'
}
drained=""
for tenth in $(seq 0 300); do
  if [[ $(metric licensing regsuite_licensing_outbox_pending) == 0 &&
    $(metric disclosure regsuite_disclosure_outbox_pending) == 0 ]]; then
    drained=$(awk -v t="$tenth" 'BEGIN {printf "%.1f", t / 10}')
    break
  fi
  sleep 0.1
done
echo "outboxes empty ${drained:-NOT within 30} s after the run; rows delivered (calls that" \
  "carried several): licensing $(metric licensing regsuite_licensing_outbox_delivered_total)" \
  "($(metric licensing regsuite_licensing_outbox_batch_calls_total))," \
  "disclosure $(metric disclosure regsuite_disclosure_outbox_delivered_total)" \
  "($(metric disclosure regsuite_disclosure_outbox_batch_calls_total))"
driver outcomes "$WORK/requests.bin" "$sent"
# CPU per submission: every process over the whole run (warm-up included), over what was sent.
read -r user sys <"$WORK/loadgen.time"
line="CPU ms per submission:"
total=0
for i in "${!names[@]}"; do
  d=$((after[i] - before[i]))
  total=$((total + d))
  line+=" ${names[i]} $(ticks_to_ms_per "$d" "$sent"),"
done
loadgen_ticks=$(awk -v u="$user" -v s="$sys" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%d", (u + s) * hz}')
echo "$line loadgen $(ticks_to_ms_per "$loadgen_ticks" "$sent"); all $(ticks_to_ms_per "$((total + loadgen_ticks))" "$sent")"

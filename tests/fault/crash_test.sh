#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Crash test (issue 8): runs the scenario for CRASH_SUBJECTS subjects (default 24) twice on a
# whole suite started with deploy/local/stack.sh up (instance var/fault-crash, ports shifted
# by CRASH_PORT_OFFSET, default 23000): once undisturbed, once while tests/fault/crash.py
# kill -9s random services and the gateway and restarts PostgreSQL; the two end states (every
# service's and the platform stub's, normalised) must be equal. Prints the counts.
set -euo pipefail
# shellcheck source=../e2e/scenario_stack.sh
source "$(dirname "${BASH_SOURCE[0]}")/../e2e/scenario_stack.sh"
LOG_TAG=fault-crash
export LOG_TAG

results=$root/var/fault-crash.results
rm -rf -- "$results"
mkdir -p "$results"
trap 'scenario_stack_stop; rm -rf "$results"' EXIT

run() {
  local mode=$1 status=0
  scenario_stack_start fault-crash "${CRASH_PORT_OFFSET:-23000}"
  PYTHONPATH=$PY_GEN:$root/tests/e2e E2E_GATEWAY=$GATEWAY E2E_INSTANCE=$INSTANCE \
    E2E_STUB_URL=$STUB_URL E2E_OFFSET_FILE=$OFFSET_FILE E2E_PLATFORM=$PLATFORM E2E_ROOT=$root \
    E2E_PG_PORT=$PG_PORT \
    E2E_STACK_ENV="$(printf '%s\n' "${STACK_ENV[@]}")" \
    "$python" "$root/tests/fault/crash.py" "$mode" "$results/reference.json" || status=$?
  ((status == 0)) || scenario_stack_show_logs
  scenario_stack_stop
  return "$status"
}

run reference
run crash

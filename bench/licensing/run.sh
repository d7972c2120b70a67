#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Licensing benchmark (issue 5): instant approvals (告知承诺 秒批) end to end through the gateway —
# SubmitApplication with every material and the commitment signed, for a clean subject each
# time, answered APPROVED with its certificate in the same call (the licensing service asks
# credit through the gateway first). Open loop at BENCH_RATE submissions/s (default 100) for
# BENCH_SECONDS (default 20): p50/p99 latency and the achieved rate.
# The whole suite comes up with the README's command (deploy/local/stack.sh up) into its own
# instance, as for the scenario test (tests/e2e/scenario_stack.sh; ports shifted by 24000).
# Needs a built tree: REGSUITE_BIN_DIR (default build/bin). Not a test.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export REGSUITE_BIN_DIR=${REGSUITE_BIN_DIR:-$here/../../build/bin}
# shellcheck source=../../tests/e2e/scenario_stack.sh
source "$here/../../tests/e2e/scenario_stack.sh"
LOG_TAG=bench-licensing
trap scenario_stack_stop EXIT
scenario_stack_start bench-licensing "${BENCH_PORT_OFFSET:-24000}"
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
PYTHONPATH=$PY_GEN:$root/tests/e2e:$root/bench BENCH_GATEWAY=$GATEWAY BENCH_INSTANCE=$INSTANCE \
  "$python" "$here/licensing_bench.py"

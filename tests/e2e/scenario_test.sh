#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# The cross-service scenario (issue 8): starts the whole suite with deploy/local/stack.sh up into
# its own instance (var/e2e-scenario, ports shifted by SCENARIO_PORT_OFFSET, default 22000, which
# keeps them below the ephemeral port range) with the platform stub, then drives it through the
# gateway with tests/e2e/scenario.py.
# Needs REGSUITE_BIN_DIR (tools/test.sh sets it). SCENARIO_KEEP=1 leaves the suite running.
set -euo pipefail
# shellcheck source=scenario_stack.sh
source "$(dirname "${BASH_SOURCE[0]}")/scenario_stack.sh"
LOG_TAG=e2e-scenario

trap scenario_stack_stop EXIT
scenario_stack_start e2e-scenario "${SCENARIO_PORT_OFFSET:-22000}"
status=0
# The services' gateway identities carry their own quota (stack.sh: REGSUITE_SERVICE_CLIENT_RATE
# and _BURST, 2000 and 2000 by default), not a client's default: licensing calls credit once per
# submission besides delivering its events.
want="${REGSUITE_SERVICE_CLIENT_RATE:-2000} ${REGSUITE_SERVICE_CLIENT_BURST:-2000}"
quotas=$(stack regctl client list | awk -F'\t' '$1 ~ /^svc-/ {print $1 " " $6 " " $7}')
echo "service identities (app key, rate, burst): ${quotas//$'\n'/; }"
[[ $(grep -c " $want\$" <<<"$quotas") == 5 ]] ||
  { echo "FAIL: the five svc-* identities must have rate and burst $want" >&2; exit 1; }
PYTHONPATH=$PY_GEN:$root/tests/e2e E2E_GATEWAY=$GATEWAY E2E_INSTANCE=$INSTANCE \
  E2E_STUB_URL=$STUB_URL E2E_OFFSET_FILE=$OFFSET_FILE E2E_PLATFORM=$PLATFORM \
  "$python" "$root/tests/e2e/scenario.py" || status=$?
((status == 0)) || scenario_stack_show_logs
exit "$status"

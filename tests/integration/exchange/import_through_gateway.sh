#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# 法人库 import through the gateway, end to end with real binaries: inspection-service, the
# gateway and exchange-service (with its own service identity) on free ports against the test
# PostgreSQL/Redis, plus the test-only platform stub serving enterprises for the pull.
#   1. `regctl exchange import FILE.csv` through the gateway: good rows reach the inspection
#      directory, the bad row is reported with its line, field and rule;
#   2. the same file again returns the first report (idempotent by batch id);
#   3. PullEnterprises reads the stub's pages and imports them.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
bin=${REGSUITE_BIN_DIR:?run through tools/test.sh}
python=${REGSUITE_TEST_PYTHON:-/usr/bin/python3}
# shellcheck source=../../support/stores.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../support/stores.sh"
with_work_dir
fail() {
  echo "FAIL: $*"
  for f in "$work"/*.log; do echo "---- $f"; tail -n 15 "$f"; done
  exit 1
}

use_test_stores
new_master_key "$work"

"$bin/regctl" migrate >/dev/null
stores_psql -c "TRUNCATE gateway.clients CASCADE;" >/dev/null
"$bin/regctl" client create svc-exchange --name "exchange service" --kind service \
  --allow "regsuite.inspection.v1.InspectionService/ImportEnterprises" \
  --secret-out "$work/svc-exchange.secret" >/dev/null
"$bin/regctl" client create operator --name "operator" \
  --allow "regsuite.exchange.v1.ExchangeService/*" \
  --allow "regsuite.inspection.v1.InspectionService/GetEnterprise" \
  --secret-out "$work/operator.secret" >/dev/null

# The platform stand-in: two enterprises to pull, one of them with a bad USCC.
run=$$-$RANDOM
cat >"$work/platform-enterprises.jsonl" <<JSON
{"uscc":"91330100799655058B","name":"杭州某某物流有限公司","industry":"G54","regionCode":"330100","registrationStatus":"存续"}
{"uscc":"91330100799655058C","name":"错误代码公司","industry":"G54","regionCode":"330100"}
JSON
echo "platform-secret-$run" >"$work/platform.secret"
"$python" "$root/tests/e2e/platform_stub/platform_stub.py" --listen 127.0.0.1:0 --app-key bureau \
  --secret-file "$work/platform.secret" --record "$work/record.jsonl" \
  --enterprises "$work/platform-enterprises.jsonl" >"$work/stub.out" 2>"$work/stub.log" &
pids+=($!)

read -r insp_port insp_metrics ex_port ex_metrics gw_port gw_http < <(free_ports 6)
REGSUITE_SERVER_GRPC_LISTEN=127.0.0.1:$insp_port REGSUITE_SERVER_METRICS_LISTEN=127.0.0.1:$insp_metrics \
  "$bin/inspection-service" >"$work/inspection.log" 2>&1 &
pids+=($!)
REGSUITE_SERVER_GRPC_LISTEN=127.0.0.1:$gw_port REGSUITE_HTTP_LISTEN=127.0.0.1:$gw_http \
  REGSUITE_BACKENDS_INSPECTION=127.0.0.1:$insp_port REGSUITE_BACKENDS_EXCHANGE=127.0.0.1:$ex_port \
  REGSUITE_AUTH_CLIENT_REFRESH=200ms "$bin/regsuite-gateway" >"$work/gateway.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do grep -q LISTENING "$work/stub.out" && break; sleep 0.1; done
stub_port=$(awk '/LISTENING/ {print $2}' "$work/stub.out")
[[ -n $stub_port ]] || fail "platform stub did not start"
REGSUITE_SERVER_GRPC_LISTEN=127.0.0.1:$ex_port REGSUITE_SERVER_METRICS_LISTEN=127.0.0.1:$ex_metrics \
  REGSUITE_GATEWAY_TARGET=127.0.0.1:$gw_port REGSUITE_GATEWAY_APP_KEY=svc-exchange \
  REGSUITE_GATEWAY_SECRET_FILE="$work/svc-exchange.secret" \
  REGSUITE_IMPORT_URL="http://127.0.0.1:$stub_port/api/v1/enterprises" REGSUITE_IMPORT_PAGE_SIZE=1 \
  REGSUITE_PUSH_APP_KEY=bureau REGSUITE_PUSH_SECRET_FILE="$work/platform.secret" \
  "$bin/exchange-service" >"$work/exchange.log" 2>&1 &
pids+=($!)
up=0
for _ in $(seq 1 150); do
  if "$bin/regctl" health "127.0.0.1:$gw_port" >/dev/null 2>&1 &&
    "$bin/regctl" health "127.0.0.1:$insp_port" >/dev/null 2>&1 &&
    "$bin/regctl" health "127.0.0.1:$ex_port" >/dev/null 2>&1; then
    up=1
    break
  fi
  sleep 0.2
done
((up == 1)) || fail "gateway, inspection or exchange not SERVING after 30 s"

# 1. A CSV file through the gateway (operator signs; exchange calls inspection as svc-exchange).
cat >"$work/enterprises.csv" <<CSV
uscc,name,legal_representative,address,region_code,industry,registration_status,established_date
91350100M000100Y43,福州某某化工有限公司,张三,"鼓楼区, 1号",350100,C26,存续,2010-05-01
91350100M000100Y44,校验位错误公司,李四,,350100,C26,存续,
91310000710924283X,上海某某仓储有限公司,王五,,310100,G59,停业,2001-01-01
CSV
import=("$bin/regctl" exchange import "$work/enterprises.csv" --target "127.0.0.1:$gw_port"
  --app-key operator --secret-file "$work/operator.secret" --batch-id "e2e-file-$run")
# Channels that tried a backend before it listened are in reconnect backoff for a moment:
# repeat while the answer is UNAVAILABLE (the import is idempotent by batch id).
for _ in $(seq 1 100); do
  status=0
  "${import[@]}" >"$work/import1.out" 2>&1 || status=$?
  grep -q UNAVAILABLE "$work/import1.out" || break
  sleep 0.2
done
cat "$work/import1.out"
((status == 1)) || fail "import with a bad row should exit 1 (got $status)"
grep -q "^line 3: rejected: uscc: check character mismatch" "$work/import1.out" || fail "bad row not reported by line/field/rule"
grep -q "3 rows, 2 accepted, 1 rejected" "$work/import1.out" || fail "wrong import counts"

# 2. The same batch again: the first report, nothing imported twice.
"${import[@]}" >"$work/import2.out" 2>&1 || true
grep -q "(imported before; first report): 3 rows, 2 accepted, 1 rejected" "$work/import2.out" || fail "repeated batch not idempotent"

# The enterprise is in the inspection directory, written by the exchange's import.
get_enterprise() {
  eval "$("$bin/regctl" sign --app-key operator --secret-file "$work/operator.secret" --http GET \
    --url "http://127.0.0.1:$gw_http/v1/inspection/enterprises/$1" | grep '^curl')"
}
get_enterprise 91350100M000100Y43 >"$work/enterprise.json"
grep -q '"source": *"exchange"' "$work/enterprise.json" || fail "enterprise not in the directory: $(cat "$work/enterprise.json")"
grep -q '福州某某化工有限公司' "$work/enterprise.json" || fail "enterprise name missing"

# 3. Pull from the platform (page size 1: two pages), through the gateway's HTTP/JSON.
pull_body="{\"batchId\":\"e2e-pull-$run\"}"
eval "$("$bin/regctl" sign --app-key operator --secret-file "$work/operator.secret" --http POST \
  --url "http://127.0.0.1:$gw_http/v1/exchange/enterprise-batches:pull" --body "$pull_body" | grep '^curl')" >"$work/pull.json"
cat "$work/pull.json"; echo
grep -q '"accepted": *1' "$work/pull.json" || fail "pull did not accept the good row"
grep -q '"rejected": *1' "$work/pull.json" || fail "pull did not reject the bad row"
get_enterprise 91330100799655058B | grep -q '杭州某某物流有限公司' || fail "pulled enterprise not in the directory"
"$bin/regctl" exchange status | grep -q "^parked batches: *[0-9]" || fail "regctl exchange status"
echo "import through the gateway: ok"

#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# End-to-end test of the gateway with independent clients (Python grpcio, curl): starts the
# credit service and the gateway on free ports against the test PostgreSQL/Redis that
# tools/test.sh runs, creates clients with regctl, then runs gateway_e2e.py.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bin=${REGSUITE_BIN_DIR:?run through tools/test.sh}
python=${REGSUITE_TEST_PYTHON:-/usr/bin/python3}
# shellcheck source=../support/stores.sh
source "$(dirname "${BASH_SOURCE[0]}")/../support/stores.sh"
with_work_dir

use_test_stores
new_master_key "$work"

"$bin/regctl" migrate >/dev/null
# A fresh gateway schema for this run: clients sealed with this run's master key.
stores_psql -c "TRUNCATE gateway.clients CASCADE; TRUNCATE gateway.audit_log;
      UPDATE gateway.audit_head SET last_id = 0, last_hash = repeat('0', 64);" >/dev/null

all_services=()
for s in licensing inspection credit disclosure exchange; do all_services+=(--allow "regsuite.$s.v1.${s^}Service/*"); done
"$bin/regctl" client create e2e-sha --name "e2e sha" "${all_services[@]}" --secret-out "$work/e2e-sha.secret" >/dev/null
"$bin/regctl" client create e2e-sm3 --name "e2e sm3" --method HMAC-SM3 "${all_services[@]}" --secret-out "$work/e2e-sm3.secret" >/dev/null
"$bin/regctl" client create e2e-narrow --name "only licensing" --allow "regsuite.licensing.v1.LicensingService/*" --secret-out "$work/e2e-narrow.secret" >/dev/null
"$bin/regctl" client create e2e-slow --name "rate limited" "${all_services[@]}" --rate 1 --burst 2 --secret-out "$work/e2e-slow.secret" >/dev/null
"$bin/regctl" client create e2e-admin --name "operator" --kind operator --allow "regsuite.gateway.v1.GatewayAdmin/*" --secret-out "$work/e2e-admin.secret" >/dev/null
"$bin/regctl" client create e2e-stream --name "streaming" --allow "regsuite.bench.v1.Bench/*" --secret-out "$work/e2e-stream.secret" >/dev/null
"$bin/regctl" client create e2e-rot --name "rotated with grace" "${all_services[@]}" --secret-out "$work/e2e-rot.secret" >/dev/null
"$bin/regctl" client create e2e-rot0 --name "rotated without grace" "${all_services[@]}" --secret-out "$work/e2e-rot0.secret" >/dev/null
"$bin/regctl" client create e2e-mtls --name "mTLS" --allow "regsuite.bench.v1.Bench/*" --secret-out "$work/e2e-mtls.secret" >/dev/null

# mTLS: a CA, the gateway's certificate, a client certificate registered to e2e-mtls, one from
# the same CA registered to nobody, and one from another CA.
tls=$work/tls
mkdir -p "$tls"
cert() {  # name subject issuer(ca|rogue-ca|self) [extfile]
  openssl req -new -newkey rsa:2048 -nodes -keyout "$tls/$1.key" -subj "/CN=$2" -out "$tls/$1.csr" 2>/dev/null
  if [[ $3 == self ]]; then
    openssl x509 -req -in "$tls/$1.csr" -signkey "$tls/$1.key" -days 2 -out "$tls/$1.pem" \
      -extfile <(printf 'basicConstraints=critical,CA:true\nkeyUsage=keyCertSign\n') 2>/dev/null
  else
    openssl x509 -req -in "$tls/$1.csr" -CA "$tls/$3.pem" -CAkey "$tls/$3.key" -CAcreateserial -days 2 \
      -out "$tls/$1.pem" -extfile <(printf '%s\n' "${4:-extendedKeyUsage=clientAuth}") 2>/dev/null
  fi
}
cert ca "e2e CA" self
cert rogue-ca "rogue CA" self
cert server localhost ca "subjectAltName=DNS:localhost,IP:127.0.0.1
extendedKeyUsage=serverAuth"
cert registered "e2e-mtls" ca
cert unknown "e2e-unknown" ca
cert rogue "e2e-mtls" rogue-ca
fingerprint=$(openssl x509 -in "$tls/registered.pem" -outform DER | sha256sum | cut -d' ' -f1)
"$bin/regctl" client cert e2e-mtls --fingerprint "$fingerprint" >/dev/null
"$bin/regctl" client create e2e-off --name "to be disabled" "${all_services[@]}" --secret-out "$work/e2e-off.secret" >/dev/null

read -r credit_port credit_metrics gw_port gw_admin echo_port tls_port < <(free_ports 6)
# The streaming backend: bench/gateway/echo_backend.cc, routed as package regsuite.bench.
"$bin/gateway_echo_backend" "127.0.0.1:$echo_port" >"$work/echo.log" 2>&1 &
pids+=($!)
REGSUITE_SERVER_GRPC_LISTEN=127.0.0.1:$credit_port REGSUITE_SERVER_METRICS_LISTEN=127.0.0.1:$credit_metrics \
  "$bin/credit-service" >"$work/credit.log" 2>&1 &
pids+=($!)
credit_pid=$!
# The gateway starts once its backends serve, so its first connections to them succeed (a
# refused one would leave the channel in reconnect backoff, failing the first calls).
wait_serving() {
  local address
  for address in "$@"; do
    for _ in $(seq 1 150); do
      "$bin/regctl" health "$address" >/dev/null 2>&1 && continue 2
      sleep 0.2
    done
    echo "$address not SERVING after 30 s"
    tail -n 20 "$work"/*.log
    exit 1
  done
}
wait_serving "127.0.0.1:$credit_port" "127.0.0.1:$echo_port"
REGSUITE_SERVER_GRPC_LISTEN=127.0.0.1:$gw_port REGSUITE_HTTP_LISTEN=127.0.0.1:$gw_admin \
  REGSUITE_HTTP_MAX_BODY_BYTES=4096 \
  REGSUITE_BACKENDS_CREDIT=127.0.0.1:$credit_port REGSUITE_AUDIT_FLUSH_INTERVAL=20ms \
  REGSUITE_AUTH_CLIENT_REFRESH=200ms \
  REGSUITE_BACKENDS_EXTRA="bench=127.0.0.1:$echo_port" REGSUITE_PROXY_STREAMING_METHODS=/regsuite.bench.v1.Bench/Count \
  REGSUITE_TLS_GRPC_LISTEN=127.0.0.1:$tls_port REGSUITE_TLS_CLIENT_CERT=require \
  REGSUITE_TLS_CERT_FILE="$tls/server.pem" REGSUITE_TLS_KEY_FILE="$tls/server.key" REGSUITE_TLS_CLIENT_CA_FILE="$tls/ca.pem" \
  "$bin/regsuite-gateway" >"$work/gateway.log" 2>&1 &
pids+=($!)
wait_serving "127.0.0.1:$gw_port"

gen=$work/py
mkdir -p "$gen"
protoc -I "$root/protos" -I /usr/include --python_out="$gen" \
  "$root/protos/google/api/http.proto" "$root/protos/google/api/annotations.proto" \
  "$root/protos/regsuite/events/v1/events.proto" "$root/protos/regsuite/credit/v1/credit.proto" \
  "$root/protos/regsuite/licensing/v1/licensing.proto" "$root/protos/regsuite/gateway/v1/admin.proto"

export E2E_GATEWAY_HTTP=127.0.0.1:$gw_admin
export E2E_GATEWAY_TLS=127.0.0.1:$tls_port
export E2E_GATEWAY=127.0.0.1:$gw_port E2E_WORK=$work E2E_CREDIT_PID=$credit_pid E2E_BIN=$bin
status=0
PYTHONPATH=$gen "$python" "$root/tests/e2e/gateway_e2e.py" || status=$?
if ((status != 0)); then
  echo "---- gateway log (tail)"; tail -n 40 "$work/gateway.log"
  echo "---- credit log (tail)"; tail -n 20 "$work/credit.log"
fi
exit "$status"

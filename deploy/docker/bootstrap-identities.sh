#!/usr/bin/env bash
# Creates each service's identity at the gateway (client svc-<service>, kind service, allowed
# to call every service's API) and writes its secret to IDENTITY_DIR/svc-<service>.secret,
# once. Used by deploy/compose.yaml after `regctl migrate`; baked into the image as
# /usr/local/bin/regsuite-bootstrap-identities. Idempotent: a service whose secret file exists
# is skipped; when the file was lost but the client exists, its secret is rotated instead.
#
# Environment: REGSUITE_POSTGRES_* and REGSUITE_AUTH_MASTER_KEY (or _FILE), as for regctl;
# IDENTITY_DIR (default /var/lib/regsuite/identities); REGCTL (default regctl).
set -euo pipefail

identity_dir=${IDENTITY_DIR:-/var/lib/regsuite/identities}
regctl=${REGCTL:-regctl}
services=(licensing inspection credit disclosure exchange)

allow=()
for s in "${services[@]}"; do allow+=(--allow "regsuite.$s.v1.${s^}Service/*"); done
# A service's own quota: its calls follow the bureau's traffic (licensing asks credit once per
# application and delivers two events per decision), far above one client's default.
quota=(--rate "${REGSUITE_SERVICE_CLIENT_RATE:-2000}" --burst "${REGSUITE_SERVICE_CLIENT_BURST:-2000}")

umask 077
mkdir -p -- "$identity_dir"
for s in "${services[@]}"; do
  secret=$identity_dir/svc-$s.secret
  if [[ -s $secret ]]; then
    echo "bootstrap: svc-$s: $secret exists"
    continue
  fi
  if ! "$regctl" client create "svc-$s" --name "$s service" --kind service "${allow[@]}" \
    "${quota[@]}" --secret-out "$secret.tmp"; then
    echo "bootstrap: svc-$s exists without a secret file here: rotating its secret" >&2
    "$regctl" client rotate "svc-$s" --secret-out "$secret.tmp"
  fi
  mv -f -- "$secret.tmp" "$secret"
done

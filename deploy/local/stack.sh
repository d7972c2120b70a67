#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Runs the whole suite on this machine without containers; data and logs under var/local.
#
#   stack.sh up       install missing Debian packages, build, start PostgreSQL (7432) and Redis
#                     (7379), apply migrations, start the five services and the gateway, wait
#                     until each answers grpc.health.v1 SERVING, print a status table
#   stack.sh down     stop the binaries (SIGTERM, SIGKILL after 15 s), Redis and PostgreSQL;
#                     the data stays for the next `up`
#   stack.sh status   the status table; exit 0 when everything is up, 3 otherwise
#   stack.sh logs [COMPONENT]   the last 100 lines of every log, or of one component's
#                     (licensing inspection credit disclosure exchange gateway postgres redis)
#   stack.sh regctl ARGS...     regctl against this suite's database and gateway master key
#                     (e.g. `stack.sh regctl client list`)
#
# Ports come from ports.env. A component whose deploy/local/config/<component>.conf exists
# gets `--config` with it; the environment sets listen addresses, data stores and the password
# file (var/local/secrets/postgres_password). Redis has no password: it listens on 127.0.0.1.
#
# Overrides, so that a second suite (an end-to-end or fault test) runs beside the default one;
# unset, everything is as above:
#   REGSUITE_LOCAL_INSTANCE     instance folder instead of var/local (data, logs, secrets)
#   REGSUITE_LOCAL_PORT_OFFSET  added to every port of ports.env except the test harness's
#   REGSUITE_BUILD_DIR          build folder instead of build/
#   REGSUITE_LOCAL_CONFIG_DIR   folder of <component>.conf files instead of deploy/local/config
#   REGSUITE_LOCAL_SKIP_BUILD=1 `up` uses the binaries already built (no package check, no build)
# The services' gateway identities (created on the first `up`) get a rate limit of
# REGSUITE_SERVICE_CLIENT_RATE calls/s (default 2000) and burst REGSUITE_SERVICE_CLIENT_BURST
# (default 2000); other clients keep the gateway's ratelimit.default_rate.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
LOG_TAG=stack

INSTANCE=$(_abs "${REGSUITE_LOCAL_INSTANCE:-$REGSUITE_ROOT/var/local}")
PG_DIR=$INSTANCE/pg
REDIS_DIR=$INSTANCE/redis
BUILD_DIR=$(_abs "${REGSUITE_BUILD_DIR:-$REGSUITE_ROOT/build}")
BIN_DIR=$BUILD_DIR/bin
CONFIG_DIR=${REGSUITE_LOCAL_CONFIG_DIR:-$REGSUITE_ROOT/deploy/local/config}
port_offset=${REGSUITE_LOCAL_PORT_OFFSET:-0}
[[ $port_offset =~ ^[0-9]+$ ]] || die "REGSUITE_LOCAL_PORT_OFFSET must be a number, not '$port_offset'"
if ((port_offset)); then
  for port_var in $(compgen -v PORT_); do
    [[ $port_var == PORT_TEST_* ]] || printf -v "$port_var" '%s' $((${!port_var} + port_offset))
  done
fi
SECRETS_DIR=$INSTANCE/secrets
MASTER_KEY_FILE=$SECRETS_DIR/gateway_master_key
# the demo client's credentials (README): app key and secret, one per line
DEMO_CREDENTIALS=$INSTANCE/demo-client.txt
HEALTH_TIMEOUT=60
# start order; `down` stops in reverse (the gateway first, so no new calls come in)
COMPONENTS=(licensing inspection credit disclosure exchange gateway)

binary_of() {
  case $1 in
    gateway) echo "$BIN_DIR/regsuite-gateway" ;;
    *) echo "$BIN_DIR/$1-service" ;;
  esac
}
grpc_port_of() {
  local var="PORT_${1^^}_GRPC"
  echo "${!var}"
}
# the second port: the gateway's HTTP/JSON ingress, a service's metrics
other_port_of() {
  local var="PORT_${1^^}_METRICS"
  [[ $1 == gateway ]] && var=PORT_GATEWAY_HTTP
  echo "${!var}"
}

pg_env() {
  echo "REGSUITE_POSTGRES_HOST=127.0.0.1"
  echo "REGSUITE_POSTGRES_PORT=$PORT_POSTGRES"
  echo "REGSUITE_POSTGRES_DBNAME=regsuite"
  echo "REGSUITE_POSTGRES_USER=regsuite"
  echo "REGSUITE_POSTGRES_PASSWORD_FILE=$(pg_password_file "$PG_DIR")"
}
redis_env() {
  echo "REGSUITE_REDIS_HOST=127.0.0.1"
  echo "REGSUITE_REDIS_PORT=$PORT_REDIS"
}
# KEY=VALUE lines: the environment a component starts with (on top of the caller's). Only
# keys of the component's configuration schema: an unknown REGSUITE_<SECTION>_* is rejected.
component_env() {
  local c=$1 s
  echo "REGSUITE_SERVER_GRPC_LISTEN=127.0.0.1:$(grpc_port_of "$c")"
  if [[ $c == gateway ]]; then
    # the HTTP/JSON ingress also serves /healthz, /readyz and /metrics
    echo "REGSUITE_HTTP_LISTEN=127.0.0.1:$(other_port_of "$c")"
  else
    echo "REGSUITE_SERVER_METRICS_LISTEN=127.0.0.1:$(other_port_of "$c")"
  fi
  if [[ $c != gateway ]]; then
    echo "REGSUITE_GATEWAY_TARGET=127.0.0.1:$PORT_GATEWAY_GRPC"
    echo "REGSUITE_GATEWAY_SECRET_FILE=$SECRETS_DIR/svc-$c.secret"
    if [[ $c == licensing ]]; then
      echo "REGSUITE_LICENSING_SIGNING_KEY_FILE=$SECRETS_DIR/licensing_signing_key.pem"
    fi
  else
    echo "REGSUITE_AUTH_MASTER_KEY_FILE=$MASTER_KEY_FILE"
    for s in licensing inspection credit disclosure exchange; do
      echo "REGSUITE_BACKENDS_${s^^}=127.0.0.1:$(grpc_port_of "$s")"
    done
  fi
  pg_env
  redis_env
}

logfile_of() {
  case $1 in
    postgres) echo "$(_pg_home "$PG_DIR")/log/postgresql.log" ;;
    redis) echo "$REDIS_DIR/log/redis.log" ;;
    *) svc_logfile "$INSTANCE" "$1" ;;
  esac
}

# Prints the health of a component and succeeds when it is SERVING.
health_of() {
  local c=$1 out rc=0
  [[ -x $BIN_DIR/regctl ]] || {
    echo "unknown (no $BIN_DIR/regctl)"
    return 1
  }
  out=$(timeout 10 "$BIN_DIR/regctl" health "127.0.0.1:$(grpc_port_of "$c")" 2>&1) || rc=$?
  if ((rc == 0)); then
    echo SERVING
  elif ((rc == 124)); then
    echo "no answer in 10 s"
  else
    out=${out%%$'\n'*}
    echo "${out:-unreachable}"
  fi
  return "$rc"
}

# Prints the status table; succeeds when every row is up.
print_status() {
  local c pid health other rc=0 row='%-11s %-6s %-13s %-8s %s\n'
  # shellcheck disable=SC2059 # the format is the variable
  row() { printf "$row" "$@"; }
  row COMPONENT PORT OTHER PID HEALTH
  health=up
  pid=$(pg_pid "$PG_DIR") && pg_is_up "$PG_DIR" "$PORT_POSTGRES" || health=down rc=1
  row postgres "$PORT_POSTGRES" - "${pid:--}" "$health"
  health=up
  pid=$(redis_pid "$REDIS_DIR") && redis_is_up "$PORT_REDIS" || health=down rc=1
  row redis "$PORT_REDIS" - "${pid:--}" "$health"
  for c in "${COMPONENTS[@]}"; do
    if pid=$(svc_pid "$INSTANCE" "$c"); then
      health=$(health_of "$c") || rc=1
    else
      pid=- health="not running" rc=1
    fi
    other="metrics $(other_port_of "$c")"
    [[ $c != gateway ]] || other="http $(other_port_of "$c")"
    row "$c" "$(grpc_port_of "$c")" "$other" "$pid" "$health"
  done
  echo "logs: $INSTANCE/logs/<component>.log, $(logfile_of postgres), $(logfile_of redis)"
  echo "      (deploy/local/stack.sh logs [component])"
  return "$rc"
}

start_component() {
  local c=$1 bin args=() kv
  bin=$(binary_of "$c")
  [[ -f $CONFIG_DIR/$c.conf ]] && args=(--config "$CONFIG_DIR/$c.conf")
  (
    while IFS= read -r kv; do export "${kv?}"; done < <(component_env "$c")
    svc_start "$INSTANCE" "$c" "$bin" "${args[@]}"
  )
}

# Waits until every component answers SERVING; on failure names them and shows their logs.
wait_healthy() {
  local deadline=$((SECONDS + HEALTH_TIMEOUT)) pending=("${COMPONENTS[@]}") next c failed=()
  while ((${#pending[@]})); do
    next=()
    for c in "${pending[@]}"; do
      if ! svc_pid "$INSTANCE" "$c" >/dev/null; then
        log "$c exited during start-up"
        failed+=("$c")
      elif ! health_of "$c" >/dev/null; then
        next+=("$c")
      fi
    done
    pending=("${next[@]}")
    ((${#failed[@]} == 0)) || break
    ((${#pending[@]})) || break
    if ((SECONDS >= deadline)); then
      log "not SERVING after $HEALTH_TIMEOUT s: ${pending[*]}"
      failed+=("${pending[@]}")
      break
    fi
    sleep 1
  done
  ((${#failed[@]})) || return 0
  for c in "${failed[@]}"; do show_log_tail "$(logfile_of "$c")" 30; done
  log "did not come up: ${failed[*]}"
  return 1
}

# The gateway master key, each service's identity at the gateway, and one demo client, created
# once; secrets live only in files under var/local/secrets (mode 600, git-ignored).
ensure_clients() {
  local c regctl_env svc_access=()
  mkdir -p "$SECRETS_DIR"
  chmod 700 "$SECRETS_DIR"
  if [[ ! -s $MASTER_KEY_FILE ]]; then
    (umask 077 && openssl rand -hex 32 >"$MASTER_KEY_FILE")
  fi
  # the bureau's e-certificate signing key (Ed25519); its public half verifies offline
  if [[ ! -s $SECRETS_DIR/licensing_signing_key.pem ]]; then
    (umask 077 && openssl genpkey -algorithm ed25519 -out "$SECRETS_DIR/licensing_signing_key.pem")
    openssl pkey -in "$SECRETS_DIR/licensing_signing_key.pem" -pubout \
      -out "$INSTANCE/licensing_signing_key.pub.pem"
  fi
  mapfile -t regctl_env < <(pg_env)
  regctl_env+=("REGSUITE_AUTH_MASTER_KEY_FILE=$MASTER_KEY_FILE")
  for c in licensing inspection credit disclosure exchange; do
    svc_access+=(--allow "regsuite.$c.v1.${c^}Service/*")
  done
  # A service's own quota: its calls follow the bureau's traffic (licensing asks credit once per
  # application and delivers two events per decision), far above one client's default.
  local quota=(--rate "${REGSUITE_SERVICE_CLIENT_RATE:-2000}" --burst "${REGSUITE_SERVICE_CLIENT_BURST:-2000}")
  for c in licensing inspection credit disclosure exchange; do
    [[ -s $SECRETS_DIR/svc-$c.secret ]] && continue
    (umask 077 && env "${regctl_env[@]}" "$BIN_DIR/regctl" client create "svc-$c" --name "$c service" \
      --kind service "${svc_access[@]}" "${quota[@]}" --secret-out "$SECRETS_DIR/svc-$c.secret" \
      >/dev/null) ||
      die "could not create the gateway identity of $c"
  done
  if [[ ! -s $DEMO_CREDENTIALS ]]; then
    (umask 077 && env "${regctl_env[@]}" "$BIN_DIR/regctl" client create demo --name "demo client" \
      --kind system "${svc_access[@]}" --secret-out "$SECRETS_DIR/demo.secret" >/dev/null) ||
      die "could not create the demo client"
    printf 'demo\n%s\n' "$(cat "$SECRETS_DIR/demo.secret")" >"$DEMO_CREDENTIALS"
    chmod 600 "$DEMO_CREDENTIALS"
  fi
}

cmd_up() {
  local c
  if [[ ${REGSUITE_LOCAL_SKIP_BUILD:-0} != 1 ]]; then
    "$REGSUITE_ROOT/tools/install-deps.sh"
    log "building in $BUILD_DIR"
    build_all "$BUILD_DIR"
  fi
  for c in "${COMPONENTS[@]}"; do
    [[ -x $(binary_of "$c") ]] || die "the build produced no $(binary_of "$c")"
  done
  [[ -x $BIN_DIR/regctl ]] || die "the build produced no $BIN_DIR/regctl"

  pg_start "$PG_DIR" "$PORT_POSTGRES" || die "PostgreSQL did not start"
  redis_start "$REDIS_DIR" "$PORT_REDIS" || die "Redis did not start"

  log "applying migrations"
  mapfile -t migrate_env < <(pg_env)
  env "${migrate_env[@]}" "$BIN_DIR/regctl" migrate || die "regctl migrate failed"
  ensure_clients

  for c in "${COMPONENTS[@]}"; do start_component "$c"; done
  log "waiting up to $HEALTH_TIMEOUT s for grpc.health.v1 SERVING"
  if ! wait_healthy; then
    print_status || true
    exit 1
  fi
  print_status
  log "demo client credentials: $DEMO_CREDENTIALS (app key, then secret)"
  log "a signed call: build/bin/regctl sign --app-key demo --secret-file $SECRETS_DIR/demo.secret \\"
  log "    --http GET --url http://127.0.0.1:$PORT_GATEWAY_HTTP/v1/credit/subjects/91350100M000100Y43"
}

cmd_down() {
  local reversed=() i
  for ((i = ${#COMPONENTS[@]} - 1; i >= 0; i--)); do reversed+=("${COMPONENTS[i]}"); done
  svc_stop "$INSTANCE" "${reversed[@]}"
  redis_stop "$REDIS_DIR"
  pg_stop "$PG_DIR"
  log "stack down; data kept in $INSTANCE"
}

cmd_logs() {
  local c=${1:-} files=() name
  if [[ -n $c ]]; then
    case " ${COMPONENTS[*]} postgres redis " in
      *" $c "*) ;;
      *) die "unknown component '$c' (${COMPONENTS[*]} postgres redis)" ;;
    esac
    files=("$(logfile_of "$c")")
  else
    for name in postgres redis "${COMPONENTS[@]}"; do files+=("$(logfile_of "$name")"); done
  fi
  local existing=() f
  for f in "${files[@]}"; do [[ -f $f ]] && existing+=("$f"); done
  ((${#existing[@]})) || die "no logs yet under $INSTANCE"
  tail -n 100 -- "${existing[@]}"
}

cmd_regctl() {
  local regctl_env
  [[ -x $BIN_DIR/regctl ]] || die "no $BIN_DIR/regctl: run \`$0 up\` first"
  mapfile -t regctl_env < <(pg_env)
  regctl_env+=("REGSUITE_AUTH_MASTER_KEY_FILE=$MASTER_KEY_FILE")
  env "${regctl_env[@]}" "$BIN_DIR/regctl" "$@"
}

case ${1:-} in
  up) cmd_up ;;
  down) cmd_down ;;
  status) print_status || exit 3 ;;
  logs) cmd_logs "${2:-}" ;;
  regctl) shift && cmd_regctl "$@" ;;
  *)
    echo "usage: $0 up|down|status|logs [component]|regctl ARGS..." >&2
    exit 2
    ;;
esac

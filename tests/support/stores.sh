# shellcheck shell=bash
# Sourced by the scripts that start regsuite binaries against the test (or a dev-env)
# PostgreSQL and Redis: tests/e2e/gateway_e2e.sh, tests/integration/exchange/*.sh, bench/.

# free_ports N: N distinct free loopback ports, chosen while all are held open so none is
# handed out twice.
free_ports() {
  "${REGSUITE_TEST_PYTHON:-/usr/bin/python3}" -c 'import socket,sys
socks=[socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks: s.bind(("127.0.0.1",0))
print(" ".join(str(s.getsockname()[1]) for s in socks))' "$1"
}

# use_test_stores: the binaries' PostgreSQL and Redis settings from the REGSUITE_TEST_* exports
# of tools/test.sh or tools/dev-env.sh.
use_test_stores() {
  export REGSUITE_POSTGRES_HOST=$REGSUITE_TEST_PG_HOST REGSUITE_POSTGRES_PORT=$REGSUITE_TEST_PG_PORT
  export REGSUITE_POSTGRES_DBNAME=$REGSUITE_TEST_PG_DBNAME REGSUITE_POSTGRES_USER=$REGSUITE_TEST_PG_USER
  export REGSUITE_POSTGRES_PASSWORD_FILE=$REGSUITE_TEST_PG_PASSWORD_FILE
  export REGSUITE_REDIS_PORT=$REGSUITE_TEST_REDIS_PORT
}

# new_master_key DIR: a fresh gateway master key in DIR/master_key, exported for the gateway
# and regctl.
new_master_key() {
  (umask 077 && openssl rand -hex 32 >"$1/master_key")
  export REGSUITE_AUTH_MASTER_KEY_FILE=$1/master_key
}

# stores_psql ARGS...: psql on the stores use_test_stores selected.
stores_psql() {
  PGOPTIONS=--client-min-messages=warning PGPASSWORD=$(cat "$REGSUITE_POSTGRES_PASSWORD_FILE") \
    psql -X -q -v ON_ERROR_STOP=1 -h "$REGSUITE_POSTGRES_HOST" -p "$REGSUITE_POSTGRES_PORT" \
    -U "$REGSUITE_POSTGRES_USER" "$REGSUITE_POSTGRES_DBNAME" "$@"
}

# with_work_dir: a temporary folder $work and a list $pids (append the processes you start),
# both cleaned up when the script exits: the processes are stopped, then a function named in
# $on_exit (if any) runs, for what else the script must stop, then the folder goes.
with_work_dir() {
  work=$(mktemp -d)
  # shellcheck disable=SC2034 # filled by the sourcing script
  pids=()
  trap _with_work_dir_cleanup EXIT
}
# shellcheck disable=SC2317 # called by the EXIT trap
_with_work_dir_cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [[ -z ${on_exit:-} ]] || "$on_exit" || true
  rm -rf "$work"
}

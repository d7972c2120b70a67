#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# The project's test command (also CI's): installs the Debian packages, configures and builds
# everything in build/, starts a throwaway PostgreSQL (port 17432) and Redis (17379) under
# var/test, runs ctest against them, then stops them and removes var/test whatever happened.
# Exits with ctest's exit code. Extra arguments go to ctest: tools/test.sh -L unit
#
# The tests find their servers through:
#   REGSUITE_TEST_PG_HOST/_PORT/_DBNAME/_USER/_PASSWORD_FILE, REGSUITE_TEST_REDIS_HOST/_PORT
#   REGSUITE_TEST_PG_STOP_CMD/_START_CMD, REGSUITE_TEST_REDIS_STOP_CMD/_START_CMD  (shell
#     commands that stop or restart the server, for fault tests)
#   REGSUITE_BIN_DIR (absolute build/bin), REGSUITE_TEST_PYTHON (the python3 with grpc)
# Runs of this script on one machine take turns (a lock on the test ports).
set -euo pipefail
# shellcheck source=../deploy/local/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../deploy/local/lib.sh"
LOG_TAG=test.sh

instance=$REGSUITE_ROOT/var/test
pg_dir=$instance/pg
redis_dir=$instance/redis
build_dir=$REGSUITE_ROOT/build
pgctl=$REGSUITE_ROOT/deploy/local/pgctl.sh
redisctl=$REGSUITE_ROOT/deploy/local/redisctl.sh

phase_times=()
phase_name=""
phase_t0=""
_now_us() { local t=${EPOCHREALTIME/[.,]/}; printf '%s\n' "$((10#$t))"; }
phase() {
  phase_end
  phase_name=$1
  phase_t0=$(_now_us)
  log "== $phase_name"
}
phase_end() {
  [[ -n $phase_name ]] || return 0
  local ms=$((($(_now_us) - phase_t0) / 1000)) took
  took=$(printf '%d.%01d s' $((ms / 1000)) $((ms % 1000 / 100)))
  log "== $phase_name took $took"
  phase_times+=("$phase_name $took")
  phase_name=""
}

# Runs a long command (build, ctest) as a job in its own process group and waits for it, so
# that a signal to this script reaches the cleanup at once and the cleanup ends the whole job.
child_pid=""
run_child() {
  local rc=0
  set -m
  "$@" &
  child_pid=$!
  set +m
  wait "$child_pid" || rc=$?
  child_pid=""
  return "$rc"
}

owns_instance=0
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
  local rc=$? entry
  trap - EXIT INT TERM
  if [[ -n $child_pid ]]; then
    log "stopping process group $child_pid"
    kill -TERM -- "-$child_pid" 2>/dev/null || true
    wait_for 10 _pid_gone "$child_pid" || kill -KILL -- "-$child_pid" 2>/dev/null || true
  fi
  if ((owns_instance)); then
    phase cleanup
    redis_stop "$redis_dir" || log "could not stop Redis in $redis_dir"
    pg_destroy "$pg_dir" || log "could not remove PostgreSQL in $pg_dir"
    rm -rf -- "$instance"
  fi
  phase_end
  for entry in "${phase_times[@]}"; do log "phase $entry"; done
  log "exit code $rc"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

phase deps
"$REGSUITE_ROOT/tools/install-deps.sh"

phase build
run_child build_all "$build_dir"

phase servers
# One run at a time per machine: the test ports are fixed. The lock is held by this shell
# only (servers and ctest get the descriptor closed), so a leftover server never holds it.
lock=/tmp/regsuite-test-$PORT_TEST_POSTGRES.lock
[[ -e $lock ]] || (umask 000 && : >"$lock")
exec {lock_fd}<"$lock"
if ! flock -n "$lock_fd"; then
  log "another tools/test.sh run holds $lock: waiting (up to 30 min)"
  flock -w 1800 "$lock_fd" || die "still locked after 30 min: $lock"
fi
owns_instance=1
# a previous run killed before its cleanup may have left servers and files behind
redis_stop "$redis_dir" {lock_fd}<&-
pg_destroy "$pg_dir" {lock_fd}<&-
rm -rf -- "$instance"
mkdir -p "$instance"
pg_start "$pg_dir" "$PORT_TEST_POSTGRES" {lock_fd}<&-
redis_start "$redis_dir" "$PORT_TEST_REDIS" {lock_fd}<&-

export REGSUITE_TEST_PG_HOST=127.0.0.1
export REGSUITE_TEST_PG_PORT=$PORT_TEST_POSTGRES
export REGSUITE_TEST_PG_DBNAME=regsuite
export REGSUITE_TEST_PG_USER=regsuite
REGSUITE_TEST_PG_PASSWORD_FILE=$(pg_password_file "$pg_dir")
export REGSUITE_TEST_PG_PASSWORD_FILE
export REGSUITE_TEST_REDIS_HOST=127.0.0.1
export REGSUITE_TEST_REDIS_PORT=$PORT_TEST_REDIS
# shell commands (quoted for sh -c / std::system)
REGSUITE_TEST_PG_STOP_CMD=$(printf '%q ' "$pgctl" stop "$pg_dir" "$PORT_TEST_POSTGRES")
REGSUITE_TEST_PG_START_CMD=$(printf '%q ' "$pgctl" start "$pg_dir" "$PORT_TEST_POSTGRES")
REGSUITE_TEST_REDIS_STOP_CMD=$(printf '%q ' "$redisctl" stop "$redis_dir" "$PORT_TEST_REDIS")
REGSUITE_TEST_REDIS_START_CMD=$(printf '%q ' "$redisctl" start "$redis_dir" "$PORT_TEST_REDIS")
export REGSUITE_TEST_PG_STOP_CMD REGSUITE_TEST_PG_START_CMD
export REGSUITE_TEST_REDIS_STOP_CMD REGSUITE_TEST_REDIS_START_CMD
export REGSUITE_BIN_DIR=$build_dir/bin
# Debian's python3-grpcio lives in /usr/bin/python3's path, not in a pyenv or venv python3
export REGSUITE_TEST_PYTHON=/usr/bin/python3

phase ctest
ctest_rc=0
run_child ctest --test-dir "$build_dir" --output-on-failure --no-tests=error -j2 "$@" {lock_fd}<&- || ctest_rc=$?
phase_end
exit "$ctest_rc"

# shellcheck shell=bash source-path=SCRIPTDIR disable=SC2034 # variables for the sourcing script
# Sourced by tests/e2e/scenario_test.sh and tests/fault/crash_test.sh: starts a whole suite with
# the README's command (deploy/local/stack.sh up) into its own instance folder and ports, plus
# the platform stub, and tears everything down again.
#
#   scenario_stack_start NAME PORT_OFFSET   sets STACK_ENV (env for stack.sh), INSTANCE, WORK,
#                                           GATEWAY, STUB_URL, OFFSET_FILE, PY_GEN, PLATFORM
#   scenario_stack_stop                     stops the suite and the stub, removes the instance
#   stack CMD...                            deploy/local/stack.sh CMD with this suite's env
#
# Test-only settings (config files in $WORK/config): a placeholder 2027 calendar (weekends
# only) while the repository has none; every service's clock follows
# $OFFSET_FILE (clock.test_offset_file, see services/common/clock.h), the outbox and the push
# retry quickly, the hazard sweep runs every second, and credit allows a repair application
# without the 12-month wait (the working-day calendar holds 2025-2026 only, so the scenario
# does not move a year; the 12-month rule is covered by the credit unit tests).
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=../../deploy/local/lib.sh
source "$root/deploy/local/lib.sh"
bin=${REGSUITE_BIN_DIR:?run through tools/test.sh (REGSUITE_BIN_DIR)}
python=${REGSUITE_TEST_PYTHON:-/usr/bin/python3}
STACK_ENV=()
stub_pid=""

stack() { env "${STACK_ENV[@]}" "$root/deploy/local/stack.sh" "$@"; }

write_configs() {
  local c dir=$WORK/config
  mkdir -p "$dir"
  # Deadlines computed in December run into 2027, for which the repository has no calendar yet.
  printf '%s\n' "# TEST ONLY placeholder, NOT the State Council's 2027 schedule: weekends" \
    "# and New Year's Day only, so that deadlines crossing into 2027 can be computed." \
    "year	2027" "" "2027-01-01	holiday	元旦" >"$WORK/calendar-2027.tsv"
  for c in licensing inspection credit disclosure exchange; do
    {
      # exchange keeps the real time: it signs its pushes with its clock, and the platform
      # checks the timestamp against real time (nothing in it depends on a statutory deadline)
      [[ $c == exchange ]] ||
        printf '[clock]\ntest_offset_file = %s\nallow_test_offset = true\n' "$OFFSET_FILE"
      printf '[outbox]\npoll_interval = 100ms\nmax_backoff = 1s\n'
      printf '[calendar]\nfile = %s\n' "$WORK/calendar-2027.tsv"
      case $c in
        inspection) printf '[inspection]\nhazard_sweep_interval = 1s\n' ;;
        credit) printf '[credit]\nrepair_min_listed_months = 0\n' ;;
        exchange)
          if ((PLATFORM)); then
            printf '[push]\nurl = %s/api/v1/feed/batches\napp_key = regsuite-e2e\n' "$STUB_URL"
            printf 'interval = 200ms\ninitial_backoff = 200ms\nmax_backoff = 1s\n'
          fi
          ;;
      esac
    } >"$dir/$c.conf"
  done
}

start_stub() {
  local port=""
  (umask 077 && openssl rand -hex 32 >"$WORK/platform.secret")
  "$python" "$root/tests/e2e/platform_stub/platform_stub.py" --listen 127.0.0.1:0 \
    --app-key regsuite-e2e --secret-file "$WORK/platform.secret" --record "$WORK/platform.jsonl" \
    >"$WORK/stub.out" 2>"$WORK/stub.log" &
  stub_pid=$!
  for _ in $(seq 1 100); do
    port=$(sed -n 's/^LISTENING \([0-9]*\).*/\1/p' "$WORK/stub.out")
    [[ -n $port ]] && break
    sleep 0.1
  done
  [[ -n $port ]] || die "the platform stub did not start: $(cat "$WORK/stub.log")"
  STUB_URL=http://127.0.0.1:$port
}

scenario_stack_start() {
  local name=$1 offset=$2
  INSTANCE=$root/var/$name
  # beside the instance, not in /tmp (which other test runs on the machine may clean up)
  WORK=$root/var/$name.work
  rm -rf -- "$WORK"
  mkdir -p "$WORK"
  OFFSET_FILE=$WORK/clock_offset
  echo 0 >"$OFFSET_FILE"
  STACK_ENV=(REGSUITE_LOCAL_INSTANCE="$INSTANCE" REGSUITE_LOCAL_PORT_OFFSET="$offset"
    REGSUITE_BUILD_DIR="$(dirname "$bin")" REGSUITE_LOCAL_CONFIG_DIR="$WORK/config"
    REGSUITE_LOCAL_SKIP_BUILD="${REGSUITE_LOCAL_SKIP_BUILD:-1}")
  scenario_stack_cleanup_instance
  PLATFORM=0
  STUB_URL=""
  if [[ -f $root/tests/e2e/platform_stub/platform_stub.py ]] &&
    "$bin/exchange-service" --help 2>&1 | grep -q 'push\.url'; then
    PLATFORM=1
    start_stub
  fi
  write_configs
  ((PLATFORM == 0)) || STACK_ENV+=(REGSUITE_PUSH_SECRET_FILE="$WORK/platform.secret")
  if ! stack up >"$WORK/stack-up.log" 2>&1; then
    cat "$WORK/stack-up.log"
    return 1
  fi
  GATEWAY=127.0.0.1:$((PORT_GATEWAY_GRPC + offset))
  PG_PORT=$((PORT_POSTGRES + offset))
  PY_GEN=$WORK/py
  mkdir -p "$PY_GEN"
  local protos=() p
  for p in credit licensing inspection disclosure exchange; do protos+=("$root/protos/regsuite/$p/v1/$p.proto"); done
  protoc -I "$root/protos" -I /usr/include --python_out="$PY_GEN" \
    "$root/protos/google/api/http.proto" "$root/protos/google/api/annotations.proto" \
    "$root/protos/regsuite/events/v1/events.proto" "${protos[@]}"
}

scenario_stack_cleanup_instance() {
  [[ -d $INSTANCE && ${#STACK_ENV[@]} -gt 0 ]] || return 0
  stack down >/dev/null 2>&1 || true
  pg_destroy "$INSTANCE/pg" >/dev/null 2>&1 || true
  rm -rf -- "$INSTANCE"
}

scenario_stack_show_logs() {
  local c
  for c in gateway licensing inspection credit disclosure exchange; do
    echo "---- $c log (tail)"
    tail -n 15 "$INSTANCE/logs/$c.log" 2>/dev/null || true
  done
  [[ -z $stub_pid ]] || {
    echo "---- platform stub log (tail)"
    tail -n 15 "$WORK/stub.log"
  }
}

scenario_stack_stop() {
  [[ -z $stub_pid ]] || kill "$stub_pid" 2>/dev/null || true
  if [[ ${SCENARIO_KEEP:-0} == 1 ]]; then
    log "SCENARIO_KEEP=1: suite left running in $INSTANCE (work files in $WORK)"
    return 0
  fi
  scenario_stack_cleanup_instance
  rm -rf -- "$WORK"
}

#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# pgctl.sh {init|start|stop|status} DIR PORT — one local PostgreSQL cluster (see lib.sh).
#   init    initdb when DIR holds no cluster, settings, role and database `regsuite`; leaves
#           the server running or stopped as it was
#   start   init when needed, then start; returns once connections are accepted
#   stop    fast shutdown (PORT is accepted and ignored)
#   status  prints "up (pid N)" or "down"; exit 0 when up, 3 when down
# Integration tests stop and restart the test cluster through this script.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
LOG_TAG=pgctl

usage() {
  echo "usage: $0 {init|start|stop|status} DIR PORT" >&2
  exit 2
}
(($# >= 2)) || usage
command=$1 dir=$2 port=${3:-}
case $command in
  init | start | status) [[ $port =~ ^[0-9]+$ ]] || usage ;;
  stop) ;;
  *) usage ;;
esac

case $command in
  init) pg_init "$dir" "$port" ;;
  start) pg_start "$dir" "$port" ;;
  stop) pg_stop "$dir" ;;
  status)
    if pg_is_up "$dir" "$port"; then
      echo "up (pid $(pg_pid "$dir"), 127.0.0.1:$port)"
    else
      echo down
      exit 3
    fi
    ;;
esac

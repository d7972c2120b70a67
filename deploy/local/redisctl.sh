#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# redisctl.sh {start|stop|status} DIR PORT — one local Redis server (see lib.sh).
#   start   writes DIR/redis.conf and starts redis-server; returns once it answers PING
#   stop    SIGTERM (Redis saves and flushes its append-only file), SIGKILL after 15 s
#   status  prints "up (pid N)" or "down"; exit 0 when up, 3 when down
# Integration tests stop and restart the test Redis through this script.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
LOG_TAG=redisctl

usage() {
  echo "usage: $0 {start|stop|status} DIR PORT" >&2
  exit 2
}
(($# == 3)) || usage
command=$1 dir=$2 port=$3
[[ $port =~ ^[0-9]+$ ]] || usage

case $command in
  start) redis_start "$dir" "$port" ;;
  stop) redis_stop "$dir" "$port" ;;
  status)
    if redis_pid "$dir" >/dev/null && redis_is_up "$port"; then
      echo "up (pid $(redis_pid "$dir"), 127.0.0.1:$port)"
    else
      echo down
      exit 3
    fi
    ;;
  *) usage ;;
esac

#!/usr/bin/env bash
# Starts a private PostgreSQL and Redis for development under var/dev-NAME and prints the
# REGSUITE_TEST_* exports that the integration tests read (the same ones tools/test.sh sets).
#   eval "$(tools/dev-env.sh NAME PG_PORT REDIS_PORT)"      start (idempotent) and export
#   tools/dev-env.sh NAME PG_PORT REDIS_PORT stop           stop both
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
name=${1:?usage: dev-env.sh NAME PG_PORT REDIS_PORT [stop]}
pg_port=${2:?PG_PORT}
redis_port=${3:?REDIS_PORT}
dir=$root/var/dev-$name
pgctl=$root/deploy/local/pgctl.sh
redisctl=$root/deploy/local/redisctl.sh
if [[ ${4:-} == stop ]]; then
  "$redisctl" stop "$dir/redis" "$redis_port" >&2
  "$pgctl" stop "$dir/pg" "$pg_port" >&2
  exit 0
fi
"$pgctl" start "$dir/pg" "$pg_port" >&2
"$redisctl" start "$dir/redis" "$redis_port" >&2
cat <<EXPORTS
export REGSUITE_TEST_PG_HOST=127.0.0.1 REGSUITE_TEST_PG_PORT=$pg_port REGSUITE_TEST_PG_DBNAME=regsuite REGSUITE_TEST_PG_USER=regsuite
export REGSUITE_TEST_PG_PASSWORD_FILE=$dir/secrets/postgres_password
export REGSUITE_TEST_REDIS_HOST=127.0.0.1 REGSUITE_TEST_REDIS_PORT=$redis_port
export REGSUITE_TEST_PG_STOP_CMD="$pgctl stop $dir/pg $pg_port" REGSUITE_TEST_PG_START_CMD="$pgctl start $dir/pg $pg_port"
export REGSUITE_TEST_REDIS_STOP_CMD="$redisctl stop $dir/redis $redis_port" REGSUITE_TEST_REDIS_START_CMD="$redisctl start $dir/redis $redis_port"
EXPORTS

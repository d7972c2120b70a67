#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Inspection benchmark (issue 6): import of BENCH_ENTERPRISES (default 1,000,000) enterprises,
# a draw over all of them with BENCH_INSPECTORS (default 10,000) inspectors, and VerifyDraw,
# called directly on the service. Private PostgreSQL/Redis on ports 19442/19389 (data under
# var/dev-bench-inspection; the inspection schema is emptied first). Needs a built tree
# (build/bin or REGSUITE_BIN_DIR). Not a test: prints the figures for bench/RESULTS.md.
#   bench/inspection/run.sh          measure
#   BENCH_REUSE_DATA=1 bench/inspection/run.sh   keep the loaded directory, measure the draws
#   bench/inspection/run.sh stop     stop the private PostgreSQL/Redis
set -euo pipefail
BENCH_NAME=bench-inspection BENCH_PG_PORT=19442 BENCH_REDIS_PORT=19389
# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
if [[ ${BENCH_REUSE_DATA:-0} != 1 ]]; then
  stores_psql -c "DROP SCHEMA IF EXISTS inspection CASCADE" \
    -c "DELETE FROM public.schema_migrations WHERE component = 'inspection'" 2>/dev/null ||
    true
fi
"$bin/regctl" migrate >/dev/null
bench_start inspection REGSUITE_INSPECTION_IMPORT_MAX_ROWS=10000
bench_python "$root/bench/inspection/inspection_bench.py"

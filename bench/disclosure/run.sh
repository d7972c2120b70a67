#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Disclosure benchmark (issue 7): search p50/p99 for two- and six-character Chinese queries
# with a category filter, and annual-report time, over BENCH_RECORDS (default 1,000,000)
# published records, called directly on the service. Private PostgreSQL/Redis on ports
# 19432/19379 (data under var/dev-bench-disclosure, kept: the seed is skipped when the count
# already matches). Needs a built tree (build/bin or REGSUITE_BIN_DIR). Not a test: it
# prints the table recorded in bench/RESULTS.md.
#   bench/disclosure/run.sh          seed if needed, start the service, measure, stop it
#   bench/disclosure/run.sh stop     stop the private PostgreSQL/Redis
set -euo pipefail
BENCH_NAME=bench-disclosure BENCH_PG_PORT=19432 BENCH_REDIS_PORT=19379
# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
records=${BENCH_RECORDS:-1000000}

have=$(stores_psql -At -c "SELECT count(*) FROM disclosure.records WHERE source_service = 'bench'")
if [[ $have != "$records" ]]; then
  echo "seeding $records records (a few minutes: every row's bigrams are computed)"
  start=$SECONDS
  stores_psql -v records="$records" -f "$root/bench/disclosure/seed.sql"
  echo "seeded in $((SECONDS - start)) s"
fi
stores_psql -At -c "SELECT 'records: ' || count(*) || ', table and indexes: ' ||
  pg_size_pretty(pg_total_relation_size('disclosure.records')) FROM disclosure.records"
bench_start disclosure
bench_python "$root/bench/disclosure/search_bench.py"

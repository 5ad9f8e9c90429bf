#!/usr/bin/env bash
# `make test`'s two runs side by side: the suite on SQLite and again on throwaway PostgreSQL + Redis
# (+ a Celery worker). Each is single-threaded Python for most of its time, so on a 2-core machine the
# two together take about as long as the PostgreSQL run alone. Each run's output goes to its own log
# (printed whole when it ends, SQLite's first); the exit status fails if either failed.
#
#   scripts/test-both.sh REPORT_DIR
set -uo pipefail
dir=${1:-var/test-report}
mkdir -p "$dir"
echo "=== Test suites on SQLite and on PostgreSQL + Redis (+ Celery worker), side by side ==="
echo "    logs while they run: $dir/sqlite.log, $dir/servers.log"
make --no-print-directory test-sqlite YIWANG_SKIP_REPORT="$dir/sqlite.txt" >"$dir/sqlite.log" 2>&1 &
sqlite=$!
make --no-print-directory test-servers YIWANG_SKIP_REPORT="$dir/servers.txt" >"$dir/servers.log" 2>&1 &
servers=$!
trap 'kill $sqlite $servers 2>/dev/null' INT TERM
wait "$sqlite"; sqlite_status=$?
cat "$dir/sqlite.log"
wait "$servers"; servers_status=$?
cat "$dir/servers.log"
echo ""
echo "SQLite run: $([ $sqlite_status = 0 ] && echo passed || echo "FAILED ($sqlite_status)");" \
     "PostgreSQL + Redis run: $([ $servers_status = 0 ] && echo passed || echo "FAILED ($servers_status)")"
[ $sqlite_status = 0 ] && [ $servers_status = 0 ]

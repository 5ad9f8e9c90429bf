#!/usr/bin/env bash
# The end of `make test`: which runs happened, and what each skipped and why (from the reports
# tests/conftest.py writes when YIWANG_SKIP_REPORT is set).
dir=${1:-var/test-report}
echo ""
echo "=== make test: what ran, what was skipped and why ==="
for run in "sqlite:SQLite" "servers:PostgreSQL + Redis (+ Celery worker)"; do
  file="$dir/${run%%:*}.txt"
  label="${run#*:}"
  if [ -f "$file" ]; then
    echo "$label: $(head -1 "$file")"
    tail -n +2 "$file"
  else
    echo "$label: did not run (an earlier step failed)"
  fi
done
if [ -f "$dir/missing-servers.txt" ]; then
  echo "Servers not installed on this machine (their tests were skipped):"
  sed 's/^/  /' "$dir/missing-servers.txt"
fi

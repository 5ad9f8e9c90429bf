#!/usr/bin/env bash
# manage.py against the stack `make serve` runs: the same database, broker and keys.
#
#   scripts/serve-manage.sh migrate            (make manage ARGS="migrate")
#   scripts/serve-manage.sh createsuperuser
#   scripts/serve-manage.sh backup
#
# Sources YIWANG_SERVE_DIR/env (default var/serve/env, written by the first `make serve`);
# PostgreSQL and Redis must be running (make serve in another terminal).
set -euo pipefail
cd "$(dirname "$0")/.."
state=${YIWANG_SERVE_DIR:-$PWD/var/serve}
[ -f "$state/env" ] || { echo "serve-manage: $state/env does not exist yet: run make serve once first" >&2; exit 1; }
set -a
# shellcheck disable=SC1091
. "$state/env"
set +a
exec "${PYTHON:-.venv/bin/python}" manage.py "$@"

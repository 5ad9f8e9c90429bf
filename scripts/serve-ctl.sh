#!/usr/bin/env bash
# supervisorctl for the stack `make serve` runs: which program runs, since when, with which pid.
#
#   scripts/serve-ctl.sh status
#   scripts/serve-ctl.sh restart worker        (programs: postgres redis worker beat gunicorn)
#   scripts/serve-ctl.sh pid gunicorn
set -euo pipefail
cd "$(dirname "$0")/.."
state=${YIWANG_SERVE_DIR:-$PWD/var/serve}
bin=$(dirname "${PYTHON:-.venv/bin/python}")
exec "$bin/supervisorctl" -c "$state/supervisord.conf" "$@"

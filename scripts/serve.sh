#!/usr/bin/env bash
# The real multi-process mode on this machine: PostgreSQL + Redis, the portal under gunicorn,
# a Celery worker and Celery beat. Ctrl-C stops everything.
#
#   scripts/serve.sh            (make serve)
#
# PostgreSQL keeps its data in var/serve/pg (initdb on first start, with the distro's
# binaries), so the demo county and everything entered survive a restart; Redis runs without
# persistence (the outbox keeps what was not sent). Plain HTTP on 127.0.0.1: the HTTPS-only
# cookie and redirect settings are turned off here, as they are behind no TLS proxy.
set -euo pipefail
cd "$(dirname "$0")/.."

HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
PY=.venv/bin/python
state=$PWD/var/serve
mkdir -p "$state"

pg_bin=""
for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
  if [ -x "$d/initdb" ]; then pg_bin=$d; break; fi
done
[ -n "$pg_bin" ] || { echo "serve: PostgreSQL is not installed (apt-get install postgresql)" >&2; exit 1; }
command -v redis-server >/dev/null || { echo "serve: Redis is not installed (apt-get install redis-server)" >&2; exit 1; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

pids=()
cleanup() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  as_pg "$pg_bin/pg_ctl" -D "$state/pg" -m fast stop >/dev/null 2>&1 || true
  echo "serve: stopped"
}
trap cleanup EXIT INT TERM

# PostgreSQL: persistent data directory, socket and log in var/serve.
if [ ! -f "$state/pg/PG_VERSION" ]; then
  [ "$(id -u)" = 0 ] && chown postgres "$state"
  as_pg "$pg_bin/initdb" -D "$state/pg" -U yiwang -A trust -E UTF8 --locale=C.UTF-8 >"$state/initdb.log" 2>&1 \
    || { cat "$state/initdb.log"; exit 1; }
fi
pg_port=$(free_port)
as_pg "$pg_bin/pg_ctl" -D "$state/pg" -l "$state/pg.log" -w -t 60 \
  -o "-p $pg_port -k $state -c listen_addresses=127.0.0.1" start >/dev/null || { cat "$state/pg.log"; exit 1; }
"$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U yiwang -d postgres -Atc "SELECT 1 FROM pg_database WHERE datname='yiwang'" \
  | grep -q 1 || "$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U yiwang yiwang

redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --dir "$state" \
  --logfile "$state/redis.log" --daemonize no &
pids+=($!)
for _ in $(seq 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done

export DATABASE_URL="postgres://yiwang@127.0.0.1:$pg_port/yiwang"
export REDIS_URL="redis://127.0.0.1:$redis_port/0"
export CELERY_BROKER_URL="$REDIS_URL"
export CELERY_RESULT_BACKEND="redis://127.0.0.1:$redis_port/1"
export DEBUG=0 SECURE_SSL_REDIRECT=0 SESSION_COOKIE_SECURE=0 CSRF_COOKIE_SECURE=0 SECURE_HSTS_SECONDS=0

$PY manage.py migrate --noinput -v 0
$PY manage.py collectstatic --noinput -v 0
$PY manage.py seed_demo --scale county --password "${DEMO_PASSWORD:-yiwang-demo-2026}"

.venv/bin/celery -A governance worker --loglevel=INFO --concurrency=2 >"$state/worker.log" 2>&1 &
pids+=($!)
.venv/bin/celery -A governance beat --loglevel=INFO --schedule "$state/celerybeat-schedule" >"$state/beat.log" 2>&1 &
pids+=($!)
.venv/bin/gunicorn governance.wsgi:application --bind "$HOST:$PORT" --workers 2 --access-logfile - &
pids+=($!)

echo ""
echo "Yiwang (gunicorn + Celery worker + beat, PostgreSQL :$pg_port, Redis :$redis_port) on http://$HOST:$PORT/"
echo "Logs: $state/{worker,beat,pg,redis}.log. Ctrl-C stops everything."
wait -n "${pids[@]}"

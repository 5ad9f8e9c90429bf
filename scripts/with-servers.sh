#!/usr/bin/env bash
# Run a command against throwaway PostgreSQL and Redis servers started here and stopped after.
#
#   scripts/with-servers.sh CMD [ARGS...]
#
# PostgreSQL: initdb into a temp dir with the distro's binaries (/usr/lib/postgresql/N/bin),
# on a free loopback port, tuned for tests (fsync off). Redis: no persistence, free port.
# Exports DATABASE_URL, CELERY_BROKER_URL, CELERY_RESULT_BACKEND and REDIS_URL for CMD, and
# YIWANG_TEST_PGDATA / _PGBIN / _PGLOG / _PGOPTS so a test can stop, start and restart PostgreSQL.
# A server that is not installed is reported plainly; under CI (CI=true) that is an error.
set -euo pipefail

tmp=$(mktemp -d /tmp/yiwang-servers.XXXXXX)
chmod 755 "$tmp"
pg_bin=""
for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
  if [ -x "$d/initdb" ]; then pg_bin=$d; break; fi
done

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

as_pg() {  # initdb and postgres refuse to run as root
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

cleanup() {
  if [ -n "${pg_started:-}" ]; then as_pg "$pg_bin/pg_ctl" -D "$tmp/pg" -m immediate stop >/dev/null 2>&1 || true; fi
  if [ -n "${redis_pid:-}" ]; then kill "$redis_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

missing=()
if [ -n "$pg_bin" ]; then
  pg_port=$(free_port)
  [ "$(id -u)" = 0 ] && chown postgres "$tmp"
  as_pg "$pg_bin/initdb" -D "$tmp/pg" -U yiwang -A trust -E UTF8 --locale=C.UTF-8 >"$tmp/initdb.log" 2>&1 \
    || { cat "$tmp/initdb.log"; exit 1; }
  pg_opts="-p $pg_port -k $tmp -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100"
  as_pg "$pg_bin/pg_ctl" -D "$tmp/pg" -l "$tmp/pg.log" -w -t 60 -o "$pg_opts" start >/dev/null \
    || { cat "$tmp/pg.log"; exit 1; }
  pg_started=1
  "$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U yiwang yiwang
  export DATABASE_URL="postgres://yiwang@127.0.0.1:$pg_port/yiwang"
  # For the tests that stop or restart the server under the portal (tests/governance/test_resilience_postgres.py):
  # pg_ctl -D "$YIWANG_TEST_PGDATA" (-o "$YIWANG_TEST_PGOPTS" to start it again), run as the user postgres
  # when the tests run as root.
  export YIWANG_TEST_PGDATA="$tmp/pg" YIWANG_TEST_PGBIN="$pg_bin" YIWANG_TEST_PGLOG="$tmp/pg.log"
  export YIWANG_TEST_PGOPTS="$pg_opts"
  echo "with-servers: PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') on port $pg_port"
else
  missing+=("PostgreSQL (apt-get install postgresql)")
fi

if command -v redis-server >/dev/null 2>&1; then
  redis_port=$(free_port)
  redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --dir "$tmp" \
    --logfile "$tmp/redis.log" --daemonize no &
  redis_pid=$!
  for _ in $(seq 50); do
    redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  export REDIS_URL="redis://127.0.0.1:$redis_port/0"
  export CELERY_BROKER_URL="$REDIS_URL"
  export CELERY_RESULT_BACKEND="redis://127.0.0.1:$redis_port/1"
  echo "with-servers: Redis on port $redis_port"
else
  missing+=("Redis (apt-get install redis-server)")
fi

if [ ${#missing[@]} -gt 0 ]; then
  for m in "${missing[@]}"; do echo "with-servers: NOT INSTALLED: $m — the tests that need it are skipped."; done
  if [ -n "${YIWANG_SKIP_REPORT:-}" ]; then  # for the summary at the end of make test
    mkdir -p "$(dirname "$YIWANG_SKIP_REPORT")"
    printf '%s\n' "${missing[@]}" >"$(dirname "$YIWANG_SKIP_REPORT")/missing-servers.txt"
  fi
  if [ "${CI:-}" = "true" ]; then
    echo "with-servers: under CI every server must be present (.ci/run installs them)." >&2
    exit 1
  fi
fi

"$@"

# Yiwang: the two commands that matter are `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DEMO_PASSWORD ?= yiwang-demo-2026
HOST ?= 127.0.0.1
PORT ?= 8000
# Where each test run writes what it skipped and why (printed at the end of `make test`).
TEST_REPORT := var/test-report

.PHONY: run test test-floors test-sqlite test-servers serve manage backup restore lint messages bench clean

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

## Set everything up, load a demo county if the database is empty, serve on http://127.0.0.1:8000
run: $(VENV)/.installed
	DEBUG=1 DEMO_MODE=1 $(PY) manage.py migrate --noinput
	DEBUG=1 DEMO_MODE=1 $(PY) manage.py seed_demo --scale county --password "$(DEMO_PASSWORD)"
	@echo ""
	@echo "Yiwang is starting on http://$(HOST):$(PORT)/  (admin: http://$(HOST):$(PORT)/admin/)"
	DEBUG=1 DEMO_MODE=1 $(PY) manage.py runserver $(HOST):$(PORT)

## The whole suite on SQLite and again on throwaway PostgreSQL + Redis servers, the two side by side
test: $(VENV)/.installed-dev
	@rm -rf $(TEST_REPORT)
	$(MAKE) --no-print-directory test-floors
	@scripts/test-both.sh $(TEST_REPORT); status=$$?; scripts/test-summary.sh $(TEST_REPORT); exit $$status

## The import-linter contracts in pyproject.toml: the floors between apps and between governance's rooms
test-floors: $(VENV)/.installed-dev
	@echo "=== Import floors (lint-imports) ==="
	$(VENV)/bin/lint-imports --no-cache

test-sqlite: $(VENV)/.installed-dev
	@echo "=== Test suite on SQLite ==="
	env -u DATABASE_URL -u CELERY_BROKER_URL -u REDIS_URL YIWANG_SKIP_REPORT=$(YIWANG_SKIP_REPORT) $(PY) -m pytest -q

test-servers: $(VENV)/.installed-dev
	@echo "=== Test suite on PostgreSQL + Redis (+ Celery worker) ==="
	YIWANG_SKIP_REPORT=$(YIWANG_SKIP_REPORT) scripts/with-servers.sh $(PY) -m pytest -q

## Production-like mode: PostgreSQL, Redis, gunicorn, a Celery worker and beat under supervisord (Ctrl-C stops all)
serve: $(VENV)/.installed
	HOST=$(HOST) PORT=$(PORT) DEMO_PASSWORD="$(DEMO_PASSWORD)" scripts/serve.sh

## manage.py against the stack make serve runs (its var/serve/env): make manage ARGS="createsuperuser"
manage: $(VENV)/.installed
	scripts/serve-manage.sh $(ARGS)

# The database the environment names (DATABASE_URL), else the one `make serve` runs (var/serve/env),
# else the default SQLite file of `make run` (its development profile, DEBUG=1): backup and restore work on the same one.
BACKUP_ENV = if [ -z "$${DATABASE_URL:-}" ]; then if [ -f var/serve/env ]; then set -a; . var/serve/env; set +a; \
	else export DEBUG=$${DEBUG:-1}; fi; fi;

## One .tar.gz of the database and the attachments, with a manifest, into var/backups/ (or OUT=DIR)
backup: $(VENV)/.installed
	@$(BACKUP_ENV) $(PY) manage.py backup $(if $(OUT),--output-dir "$(OUT)")

## Replace the database and the attachments with those of a backup: make restore FILE=var/backups/....tar.gz
restore: $(VENV)/.installed
	@test -n "$(FILE)" || { echo "usage: make restore FILE=var/backups/yiwang-....tar.gz"; exit 2; }
	@$(BACKUP_ENV) $(PY) manage.py restore "$(FILE)" $(if $(YES),--yes)

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .

## Extract and compile the zh_Hans catalogue (needs gettext)
messages: $(VENV)/.installed
	DEBUG=1 $(PY) manage.py makemessages -l zh_Hans --no-obsolete --ignore=.venv --ignore=static/vendor
	DEBUG=1 $(PY) manage.py compilemessages -l zh_Hans

bench: $(VENV)/.installed-dev
	$(PY) bench/seed_demo.py

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles var

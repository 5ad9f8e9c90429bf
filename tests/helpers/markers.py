"""Skip markers for tests that need a real server; `make test` provides them on its second run."""

import os

import pytest

on_postgres = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))

requires_postgres = pytest.mark.skipif(not on_postgres, reason="needs PostgreSQL (second run of make test)")
requires_redis = pytest.mark.skipif(
    not os.environ.get("CELERY_BROKER_URL"), reason="needs Redis and a Celery worker (second run of make test)"
)

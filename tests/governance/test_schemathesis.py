"""Schemathesis against the whole API, as an administrator and as a township clerk: every operation of the
OpenAPI schema (/api/schema/) is called with generated data, and no answer is a server error or differs
from what the schema documents (status code, content type, body).

The calls go through the portal's WSGI application in this process, so they read and write the test
database of this run (SQLite, then PostgreSQL in the second run of ``make test``), holding the cast's
county. Hypothesis is derandomised (the same examples on every run) and bounded:
``YIWANG_SCHEMATHESIS_EXAMPLES`` examples per operation (default 10). Mutating operations change the
throwaway data; a delete may leave a row gone for the operations after it, which is fine.
"""

import contextlib
import os
import time
from collections import defaultdict

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.failures import Failure, FailureGroup

from governance.wsgi import application

# How many generated examples each operation gets (each is one request; about 150 operations).
EXAMPLES = int(os.environ.get("YIWANG_SCHEMATHESIS_EXAMPLES", "10"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@contextlib.contextmanager
def connection_kept():
    """The WSGI handler closes the database connection at each request's end, which on PostgreSQL ends the
    test's transaction; Django's test client keeps it the same way, by lifting that receiver."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def fuzz(user) -> dict[str, list[str]]:
    """Every operation fuzzed as ``user`` (token auth); operation label → the distinct problems found."""
    with connection_kept():
        return _fuzz(user)


def _fuzz(user) -> dict[str, list[str]]:
    headers = {"Authorization": f"Token {Token.objects.get_or_create(user=user)[0].key}"}
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application, headers=headers)
    problems = defaultdict(list)
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def call(case):
            label = case.operation.label
            response = case.call(headers=headers)
            try:
                case.validate_response(response, checks=CHECKS)
            except (FailureGroup, Failure) as exc:  # record what was found, go on with the next example
                for failure in getattr(exc, "exceptions", [exc]):
                    text = f"{failure.title}: {failure.message}".splitlines()
                    problem = " | ".join(line.strip() for line in text[:6] if line.strip())[:600]
                    if problem not in problems[label]:
                        problems[label].append(problem)

        call()
    return problems


def report(problems: dict[str, list[str]]) -> str:
    return "\n".join(f"{label}\n    " + "\n    ".join(found) for label, found in sorted(problems.items()))


@pytest.mark.parametrize("role", ["admin_user", "clerk_a"])
def test_the_api_answers_as_its_schema_says(request, county, role):
    from governance.roles import user_sync_permissions

    user = request.getfixturevalue(role)
    user_sync_permissions(user)
    started = time.monotonic()
    problems = fuzz(user)
    print(f"schemathesis as {role}: {len(problems)} operations with problems in {time.monotonic() - started:.0f} s")
    assert not problems, report(problems)

"""Who is acting: the request's user and address, or the task's name, for both capture paths.

The application path reads a context variable (set for every request, no query: the user is
read only when an event is recorded). The database path reads PostgreSQL session settings
(``yiwang.actor_id``, ``yiwang.actor``, ``yiwang.address``) that the middleware sets with
``set_config`` only for requests that may write (POST, PUT, PATCH, DELETE) and resets after
them — a GET page costs no query — and that a Celery task sets to its name before it runs.
The settings are session-level, not transaction-local (autocommit would drop a local one after
the first statement), so each is reset when its request or task ends: a kept connection never
lends one user's name to the next request's writes.
"""

import contextvars
from dataclasses import dataclass

from axes.helpers import get_client_ip_address
from django.db import connection

SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}


@dataclass
class Actor:
    request: object = None
    name: str = ""  # a task's name when no request acts

    @property
    def user(self):
        user = getattr(self.request, "user", None)
        return user if getattr(user, "is_authenticated", False) else None

    @property
    def address(self) -> str:
        return client_address(self.request) if self.request is not None else ""


NOBODY = Actor()
current = contextvars.ContextVar("yiwang_audit_actor", default=NOBODY)  # noqa: B039 — never mutated


def client_address(request) -> str:
    """The client's address as django-axes sees it (the same proxy rules as the lockout)."""
    if hasattr(request, "audit_address"):
        return request.audit_address
    try:
        return (get_client_ip_address(request) or "")[:64]
    except Exception:  # noqa: BLE001 — a request without META (a test's stand-in): no address
        return ""


def actor_label(user) -> str:
    """The login and the name at the time: ``zhangli (张丽)``."""
    if user is None:
        return ""
    name = getattr(user, "display_name", "") or ""
    username = getattr(user, "username", "") or ""
    return (f"{username} ({name})" if name and name != username else username)[:150]


def _set_database_actor(actor_id, actor: str, address: str) -> None:
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('yiwang.actor_id', %s, false), set_config('yiwang.actor', %s, false), "
            "set_config('yiwang.address', %s, false)",
            ["" if actor_id is None else str(actor_id), actor, address],
        )


def _reset_database_actor() -> None:
    if connection.vendor != "postgresql" or connection.connection is None:
        return
    try:
        _set_database_actor(None, "", "")
    except Exception:  # noqa: BLE001 — a broken connection is closed by Django; nothing to reset then
        pass


class AuditContextMiddleware:
    """Names the actor of the request for the audit trail (after AuthenticationMiddleware)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = current.set(Actor(request=request))
        writes = request.method not in SAFE_METHODS and connection.vendor == "postgresql"
        try:
            if writes:
                user = Actor(request=request).user
                _set_database_actor(getattr(user, "pk", None), actor_label(user), client_address(request))
            return self.get_response(request)
        finally:
            if writes:
                _reset_database_actor()
            current.reset(token)


def api_user_known(request) -> None:
    """Called by the API's views once DRF has authenticated the request: a token's user is unknown to the
    middleware, so a writing request names him to the database now (the signals read him from the request)."""
    if request.method in SAFE_METHODS or connection.vendor != "postgresql":
        return
    user = getattr(request, "user", None)
    if getattr(user, "is_authenticated", False):
        _set_database_actor(user.pk, actor_label(user), client_address(getattr(request, "_request", request)))


def _in_worker(task) -> bool:
    """A task run in-process (no broker: eager) acts for the request that ran it; only a worker's own."""
    return task is not None and not getattr(getattr(task, "request", None), "is_eager", False)


def task_started(task=None, **kwargs) -> None:
    """Celery's task_prerun: a worker's task acts under its own name."""
    if not _in_worker(task):
        return
    name = f"task:{getattr(task, 'name', '') or 'task'}"[:150]
    current.set(Actor(name=name))
    _set_database_actor(None, name, "")


def task_finished(task=None, **kwargs) -> None:
    if not _in_worker(task):
        return
    current.set(NOBODY)
    _reset_database_actor()


def acting_as(user=None, *, name: str = "", address: str = ""):
    """A block whose writes are recorded as ``user``'s (or ``name``'s): management commands, tests."""
    return _ActingAs(user, name, address)


class _ActingAs:
    def __init__(self, user, name, address):
        self.user, self.name, self.address = user, name, address

    def __enter__(self):
        stand_in = _StandIn(self.user, self.address)
        self.token = current.set(Actor(request=stand_in, name=self.name))
        _set_database_actor(getattr(self.user, "pk", None), actor_label(self.user) or self.name, self.address)
        return self

    def __exit__(self, *exc):
        current.reset(self.token)
        _reset_database_actor()


class _StandIn:
    """What Actor reads of a request, for a block that acts without one."""

    def __init__(self, user, address):
        self.user = user
        self.audit_address = address

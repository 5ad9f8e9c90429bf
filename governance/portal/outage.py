"""A database that is down or restarting answers 503 in Chinese ("数据库暂时不可用，请稍后重试"), never a
500 traceback: pages get a plain page, the API a JSON body, Open311 its error list.

Two hooks, one answer: ``DatabaseOutageMiddleware`` turns a view's outage into the 503 (in development
too), and ``server_error`` (the URLconf's ``handler500``) does the same for an outage that happens
outside the view (a middleware saving the session, the login lockout). Neither touches the database:
the answer is rendered without a request context.

The portal recovers by itself: the broken connection is closed at the end of the request (Django
closes a connection that had errors and is no longer usable), and with CONN_HEALTH_CHECKS a
persistent connection is checked before its first use in the next request, so a restarted
PostgreSQL is used again without restarting the portal.
"""

import logging
import sys

from django.db import Error, InterfaceError, OperationalError, connection
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy
from django.views.defaults import server_error as default_server_error

logger = logging.getLogger(__name__)

OUTAGE_MESSAGE = gettext_lazy("The database is unavailable for a moment. Please try again shortly.")
RETRY_AFTER_SECONDS = 5
# What SQLite says when its file is busy or gone; its other OperationalErrors (no such table…) are bugs.
SQLITE_OUTAGES = ("database is locked", "unable to open database", "disk i/o error")


def is_database_outage(exc: BaseException | None) -> bool:
    """Whether ``exc`` says the database cannot be reached or dropped the connection (not a bug of ours).

    On PostgreSQL the driver raises OperationalError for a lost or refused connection, a server
    shutting down, a statement cancelled or a deadlock, and InterfaceError for a connection
    already closed; SQL mistakes are ProgrammingError or IntegrityError.
    """
    if not isinstance(exc, Error):  # Django's InterfaceError is no DatabaseError
        return False
    if connection.vendor == "sqlite":
        return isinstance(exc, OperationalError) and any(text in str(exc).lower() for text in SQLITE_OUTAGES)
    return isinstance(exc, OperationalError | InterfaceError)


def outage_response(request) -> HttpResponse:
    message = str(OUTAGE_MESSAGE)
    path = request.path
    if path.startswith("/open311/"):
        response = JsonResponse([{"code": 503, "description": message}], status=503, safe=False,
                                json_dumps_params={"ensure_ascii": False})
    elif path.startswith(("/api/", "/healthz")) or "application/json" in request.headers.get("Accept", ""):
        response = JsonResponse({"detail": message}, status=503, json_dumps_params={"ensure_ascii": False})
    else:
        response = HttpResponse(render_to_string("503.html", {"message": message}), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseOutageMiddleware:
    """Answer a view's database outage with the 503 instead of a 500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not is_database_outage(exception):
            return None
        logger.warning("database unavailable during %s %s: %s", request.method, request.path,
                       str(exception).strip().splitlines()[0] if str(exception).strip() else type(exception).__name__)
        return outage_response(request)


def server_error(request):
    """``handler500``: the 503 for a database outage raised outside a view, else Django's 500 page."""
    if is_database_outage(sys.exc_info()[1]):
        return outage_response(request)
    return default_server_error(request)


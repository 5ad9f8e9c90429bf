"""The size of a request's body, refused with 413 before it is read: the one copy every page and the API go through.

Django guards a form's body (``DATA_UPLOAD_MAX_MEMORY_SIZE``) only when ``request.POST`` or
``request.body`` reads it; DRF's parsers read the stream themselves, so a 30 MB JSON
description was accepted. ``BodySizeLimitMiddleware`` refuses any body that is not a
multipart upload (JSON, a form, anything else) past ``API_MAX_BODY_BYTES``:

- with a ``Content-Length``, from the header alone: not a byte of the body is read;
- without one (``Transfer-Encoding: chunked``), when the server marks the input as ending
  with the body (``wsgi.input_terminated``, as gunicorn does), by reading at most the limit
  and one byte: past it the request is refused, within it the body is handed on as if it had
  come with a length (Django reads nothing of a body without one). A server that does not
  mark the end leaves such a body unread (Django's own behaviour), so nothing waits on it.

Multipart uploads keep their own limits (the roster import's file size, the attachments'
``CASE_ATTACHMENT_MAX_BYTES``): Django streams their files to disk, not into memory.
The answer is JSON (``{"detail": …}``, as the API's other errors) for the API and for a
caller that sent or accepts JSON, plain text for the pages, in the caller's language.
"""

import io

from django.conf import settings
from django.core.handlers.wsgi import LimitedStream
from django.http import HttpResponse, JsonResponse
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext

_READ_CHUNK = 64 * 2**10
_JSON_PATHS = ("/api/", "/open311/")


class BodySizeLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        refused = refuse_large_body(request)
        return refused if refused is not None else self.get_response(request)


def refuse_large_body(request) -> HttpResponse | None:
    """A 413 answer for a body past ``API_MAX_BODY_BYTES`` (see the module doc); None to go on."""
    meta = request.META
    if meta.get("CONTENT_TYPE", "").lower().startswith("multipart/"):
        return None
    limit = settings.API_MAX_BODY_BYTES
    declared = meta.get("CONTENT_LENGTH")
    if declared:
        try:
            length = int(declared)
        except ValueError:
            return None  # Django reads such a body as empty
        return _too_large(request, limit) if length > limit else None
    if "chunked" in meta.get("HTTP_TRANSFER_ENCODING", "").lower() and meta.get("wsgi.input_terminated"):
        body = _read_at_most(meta["wsgi.input"], limit + 1)
        if len(body) > limit:
            return _too_large(request, limit)
        request._stream = LimitedStream(io.BytesIO(body), len(body))
        meta["CONTENT_LENGTH"] = str(len(body))
    return None


def _read_at_most(stream, size: int) -> bytes:
    parts = []
    left = size
    while left > 0:
        chunk = stream.read(min(_READ_CHUNK, left))
        if not chunk:
            break
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)


def _too_large(request, limit: int) -> HttpResponse:
    message = gettext("The request is larger than %(size)s: it was refused unread. Send less text at a time.") % {
        "size": filesizeformat(limit)
    }
    meta = request.META
    wants_json = (
        request.path.startswith(_JSON_PATHS)
        or "json" in meta.get("CONTENT_TYPE", "").lower()
        or "json" in meta.get("HTTP_ACCEPT", "").lower()
    )
    if wants_json:
        response = JsonResponse({"detail": message}, status=413, json_dumps_params={"ensure_ascii": False})
    else:
        response = HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "no-store"
    return response

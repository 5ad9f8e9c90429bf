"""What every request's raw input must pass before a view sees it, and the one way to read an id from it.

``RefuseNulMiddleware``: a NUL character (``\\0``, ``%00`` in a URL) in the path, in a query
parameter or in a form field is refused with a 400 that names the parameter. No field of the
portal holds one, and PostgreSQL refuses it in any text (the driver raises before the query is
sent), so a NUL that reached a filter, an export's log or a case's text answered 500 there while
SQLite stored it. Refusing it once, at the door, covers every page, API call, export and Open311
call, including those that read a parameter by hand. JSON bodies are not read here: the API's
serializer fields refuse NUL themselves, and Open311 checks its JSON body (grid/api/open311.py).

``parse_id``: ``str.isdigit()`` is true for "³" and "①", which ``int()`` refuses; a filter that
checked ``isdigit()`` and then called ``int()`` answered 500 on ``?unit=³``. Every id or number
read from a request goes through ``parse_id`` (or ``parse_number``) instead.
"""

import json

from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext

NUL = "\x00"
NUL_SHOWN = "\\0"
# Ids are bigints: 18 digits always fit, 19 may not.
MAX_ID_DIGITS = 18


def parse_number(value, *, max_digits: int = MAX_ID_DIGITS) -> int | None:
    """``value`` as a non-negative int when it is 1 to ``max_digits`` ASCII digits (surrounding spaces
    allowed), else None."""
    text = str(value if value is not None else "").strip()
    if not text or len(text) > max_digits or not (text.isascii() and text.isdigit()):
        return None
    return int(text)


def parse_id(value) -> int | None:
    """A row's id given in a request (a query parameter, a form field): a positive bigint, else None."""
    number = parse_number(value)
    return number if number else None


def _nul_parameter(request) -> str | None:
    """The name of the first query parameter or form field holding a NUL ("" for the path), else None."""
    if NUL in request.path_info:
        return ""
    for name, values in request.GET.lists():
        if NUL in name or any(NUL in value for value in values):
            return name
    if request.method in ("POST", "PUT", "PATCH") and request.content_type in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        for name, values in request.POST.lists():
            if NUL in name or any(NUL in value for value in values):
                return name
        for name, files in request.FILES.lists():
            if NUL in name or any(NUL in (upload.name or "") for upload in files):
                return name
    return None


class RefuseNulMiddleware:
    """A NUL in the path, a query parameter or a form field: 400, naming the parameter (see the module)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        name = _nul_parameter(request)
        if name is None:
            return self.get_response(request)
        return refusal(request, name)


def nul_message(name: str = "") -> str:
    """The refusal of a NUL in parameter ``name`` (or, without a name, in the path)."""
    message = gettext("A NUL character (\\0) is not allowed here.")
    return f"{name.replace(NUL, NUL_SHOWN)}: {message}" if name else message


def refusal(request, name: str) -> HttpResponse:
    """The 400 for a NUL in parameter ``name`` ("" for the path), shaped as the caller reads errors: the API's
    ``{parameter: [message]}``, Open311's ``[{code, description}]``, a page for a browser."""
    path = request.path_info
    if path.startswith("/open311/"):
        body = [{"code": 400, "description": nul_message(name)}]
    elif path.startswith("/api/"):
        body = {name.replace(NUL, NUL_SHOWN): [nul_message()]} if name else {"detail": nul_message()}
    else:
        return render(request, "400.html", {"message": nul_message(name)}, status=400)
    return HttpResponse(json.dumps(body, ensure_ascii=False), status=400, content_type="application/json")

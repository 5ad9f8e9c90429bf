"""Open311 GeoReport v2 façade over cases, mounted at /open311/v2/ (JSON only).

- ``services.json``: the categories as services (sub-categories, and top categories without any);
- ``services/{service_code}.json``: a service's definition (its one optional attribute, ``grid``);
- ``requests.json`` GET: service requests (cases) of the client's area; POST: file a case;
- ``requests/{service_request_id}.json``: one service request (as a one-element list).

Discovery (``services.json``, ``services/{code}.json``) is public, as GeoReport v2 makes it: a
standard client reads the services without a key, limited to ``ANONYMOUS_PER_MINUTE`` calls a
minute per client address (taken as the login lockout takes it, by django-axes' settings).
Requests need the ``api_key`` of an ``Open311Client`` (issued in the admin, stored as its SHA-256
hash): they carry personal matters, so even reading them is not public. A client sees and files
cases only in the area of the account it files as (``client.user``), is limited to ``per_minute``
calls a minute (its keyed discovery calls count too), and never sees the reporter's personal
data. A rate limit that cannot reach the cache lets the call through (logged). A case filed
here goes through ``grid.services.cases.case_create`` like any other report; its grid is the
``attribute[grid]`` code when given, else the grid or micro-grid of the area whose centroid is
nearest to ``lat``/``long``. ``service_request_id`` is the case number; ``status`` is ``closed``
for a closed or rejected case and ``open`` otherwise; ``status_notes`` is the latest step.
Errors are Open311 error lists, ``[{"code": <HTTP status>, "description": "..."}]``.
"""

import datetime
import decimal
import json
import math
from operator import attrgetter

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db.models import OuterRef, Q, Subquery
from django.http import JsonResponse
from django.urls import re_path
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from governance.models import HOUSEHOLD_LEVELS, OrgUnit
from governance.portal.guard import NUL, nul_message
from governance.portal.ratelimit import client_address, within_limit
from grid.models import (
    FINAL_STATES,
    Case,
    CaseAction,
    CaseCategory,
    CaseEvent,
    CaseSource,
    CaseState,
    Open311Client,
    open311_key_hash,
)
from grid.services.cases import case_create

# Calls a minute to the public discovery endpoints from one address without a key.
ANONYMOUS_PER_MINUTE = 60
# A point farther than this from every grid centroid of the client's area is not filed by position.
MAX_DISTANCE_KM = 20
# GET requests.json answers at most this many requests, newest first (GeoReport v2 suggests 1000),
# and without a date range those of the last DEFAULT_DAYS days.
MAX_REQUESTS = 1000
DEFAULT_DAYS = 90
GRID_ATTRIBUTE = "grid"


# --- Responses ----------------------------------------------------------------------------


def _json(data, status: int = 200) -> JsonResponse:
    return JsonResponse(data, status=status, safe=False, json_dumps_params={"ensure_ascii": False})


def _error(status: int, description) -> JsonResponse:
    return _json([{"code": status, "description": str(description)}], status=status)


def _datetime(value) -> str | None:
    return timezone.localtime(value).isoformat(timespec="seconds") if value else None


class Refused(Exception):
    """An Open311 error answer."""

    def __init__(self, status: int, description):
        super().__init__(description)
        self.status = status
        self.description = description


# --- The client: key and rate limit ----------------------------------------------------------


def _form(request) -> dict:
    """The POSTed parameters: a form (as GeoReport v2 says), or a JSON object some clients send."""
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError):
            raise Refused(400, _("The body is not valid JSON.")) from None
        if not isinstance(data, dict):
            raise Refused(400, _("The body is not valid JSON."))
        form = {str(k): "" if v is None else str(v) for k, v in data.items() if not isinstance(v, dict | list)}
        # A form's NUL is refused before the view (governance.portal.guard); a JSON body's here.
        refused = next((k for k, v in form.items() if NUL in k or NUL in v), None)
        if refused is not None:
            raise Refused(400, nul_message(refused))
        return form
    return request.POST


def _keyed_client(request) -> Open311Client | None:
    """The active client whose ``api_key`` the call carries, or None."""
    key = _form(request).get("api_key") if request.method == "POST" else None
    key = key or request.GET.get("api_key") or request.headers.get("X-Api-Key") or ""
    key = key.strip()
    if not key or len(key) > 200:
        return None
    client = Open311Client.objects.select_related("user").filter(key_hash=open311_key_hash(key), is_active=True).first()
    return client if client is not None and client.user.is_active else None


def _limit_client(client: Open311Client) -> None:
    if not within_limit(f"open311:{client.pk}:{client.key_hash[:12]}", client.per_minute, cache=cache):
        raise Refused(429, _("Too many requests: at most %(limit)d a minute.") % {"limit": client.per_minute})


def _client(request) -> Open311Client:
    client = _keyed_client(request)
    if client is None:
        raise Refused(403, _("A valid api_key is required."))
    _limit_client(client)
    return client


def _public_client(request) -> Open311Client | None:
    """A public call: counted against its client's window when it carries a valid key, else against its address's.

    A missing, stale or wrong key is no reason to refuse what anyone may read.
    """
    client = _keyed_client(request)
    if client is not None:
        _limit_client(client)
        return client
    address = client_address(request)
    if not within_limit(f"open311:ip:{address}", ANONYMOUS_PER_MINUTE, cache=cache):
        raise Refused(429, _("Too many requests: at most %(limit)d a minute.") % {"limit": ANONYMOUS_PER_MINUTE})
    return None


def open311_view(methods, *, public=False):
    """An Open311 endpoint: JSON only, allowed methods, the client's key (none for a ``public`` one) and
    rate, errors as Open311 bodies."""

    def decorate(view):
        @csrf_exempt
        def wrapper(request, *args, fmt="json", **kwargs):
            if fmt != "json":
                return _error(400, _("Only JSON is supported: ask for .json."))
            if request.method not in methods:
                response = _error(405, _("Method not allowed."))
                response["Allow"] = ", ".join(methods)
                return response
            try:
                client = _public_client(request) if public else _client(request)
                return view(request, client, *args, **kwargs)
            except Refused as refused:
                return _error(refused.status, refused.description)

        wrapper.__name__ = view.__name__
        wrapper.__doc__ = view.__doc__
        return wrapper

    return decorate


# --- Services ------------------------------------------------------------------------------


def _services():
    """Active leaf categories: sub-categories, and top categories without active sub-categories."""
    categories = list(CaseCategory.objects.filter(is_active=True).select_related("parent"))
    with_children = {category.parent_id for category in categories if category.parent_id}
    services = []
    for category in categories:
        if category.parent_id is not None and not category.parent.is_active:
            continue
        if category.parent_id is None and category.pk in with_children:
            continue
        services.append(category)
    services.sort(key=attrgetter("tree_order"))
    return services


def _service(category: CaseCategory) -> dict:
    group = category.parent or category
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": category.description,
        # One optional attribute: the grid code (see services/{code}.json).
        "metadata": True,
        "type": "realtime",
        "keywords": ",".join(code for code in (group.code, group.name) if code),
        "group": group.name,
    }


@open311_view(("GET",), public=True)
def services_list(request, client):
    return _json([_service(category) for category in _services()])


@open311_view(("GET",), public=True)
def service_definition(request, client, code):
    category = next((c for c in _services() if c.code == code), None)
    if category is None:
        raise Refused(404, _("No such service_code."))
    return _json({
        "service_code": category.code,
        "attributes": [{
            "variable": True,
            "code": GRID_ATTRIBUTE,
            "datatype": "string",
            "required": False,
            "datatype_description": _("The code of the grid or micro-grid; else the nearest to lat/long."),
            "order": 1,
            "description": _("Grid code"),
        }],
    })


# --- Service requests ------------------------------------------------------------------------


def _cases(client: Open311Client):
    latest = CaseEvent.objects.filter(case=OuterRef("pk")).order_by("-at", "-id")
    return (
        Case.objects.visible_to(client.user)
        .select_related("category", "handling_unit")
        .annotate(last_action=Subquery(latest.values("action")[:1]),
                  last_comment=Subquery(latest.values("comment")[:1]))
    )


def _request_row(case: Case) -> dict:
    """A case as an Open311 service request (never the reporter's personal data)."""
    notes = (getattr(case, "last_comment", None) or "").strip()
    if not notes and getattr(case, "last_action", None):
        notes = str(CaseAction(case.last_action).label)
    return {
        "service_request_id": case.number,
        "status": "closed" if case.state in FINAL_STATES else "open",
        "status_notes": notes,
        "service_name": case.category.name,
        "service_code": case.category.code,
        "description": case.description,
        "agency_responsible": case.handling_unit.display_name,
        "service_notice": str(CaseState(case.state).label),
        "requested_datetime": _datetime(case.reported_at),
        "updated_datetime": _datetime(case.updated_at),
        "expected_datetime": _datetime(case.due_at),
        "address": case.address,
        "address_id": None,
        "zipcode": None,
        "lat": float(case.latitude) if case.latitude is not None else None,
        "long": float(case.longitude) if case.longitude is not None else None,
        "media_url": None,
    }


def _moment(text: str, *, end: bool = False) -> datetime.datetime:
    """An ISO 8601 date-time (or date) parameter; a bare date means its start (or, for an end, its end)."""
    text = text.strip().replace(" ", "+")  # a "+08:00" offset arrives as " 08:00" in a query string
    try:
        moment = parse_datetime(text)
        if moment is None:
            day = parse_date(text)
            if day is None:
                raise ValueError
            moment = datetime.datetime.combine(day + datetime.timedelta(days=1 if end else 0), datetime.time.min)
    except ValueError:
        raise Refused(400, _("Dates are ISO 8601, such as 2026-05-01T08:00:00+08:00.")) from None
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def _list_requests(request, client):
    cases = _cases(client)
    params = request.GET
    ids = [value.strip() for value in params.get("service_request_id", "").split(",") if value.strip()]
    if ids:
        return cases.filter(number__in=ids[:MAX_REQUESTS])
    codes = [value.strip() for value in params.get("service_code", "").split(",") if value.strip()]
    if codes:
        cases = cases.filter(Q(category__code__in=codes) | Q(category__parent__code__in=codes))
    statuses = {value.strip() for value in params.get("status", "").split(",") if value.strip()}
    if statuses - {"open", "closed"}:
        raise Refused(400, _("status is open or closed."))
    if statuses == {"open"}:
        cases = cases.exclude(state__in=FINAL_STATES)
    elif statuses == {"closed"}:
        cases = cases.filter(state__in=FINAL_STATES)
    start, end = params.get("start_date", ""), params.get("end_date", "")
    if start:
        cases = cases.filter(reported_at__gte=_moment(start))
    if end:
        cases = cases.filter(reported_at__lt=_moment(end, end=True) if parse_date(end.strip()) else _moment(end))
    if not start and not end:
        cases = cases.filter(reported_at__gte=timezone.now() - datetime.timedelta(days=DEFAULT_DAYS))
    return cases.order_by("-reported_at", "-id")[:MAX_REQUESTS]


@open311_view(("GET", "POST"))
def requests_view(request, client):
    if request.method == "POST":
        return _post_request(request, client)
    return _json([_request_row(case) for case in _list_requests(request, client)])


@open311_view(("GET",))
def request_detail(request, client, number):
    case = _cases(client).filter(number=number).first()
    if case is None:
        raise Refused(404, _("No such service_request_id."))
    return _json([_request_row(case)])


# --- Filing a case -----------------------------------------------------------------------------


def _coordinate(text: str, name: str, limit: int) -> decimal.Decimal:
    try:
        value = decimal.Decimal(text.strip())
    except (decimal.InvalidOperation, ValueError):
        raise Refused(400, _("%(name)s is not a number.") % {"name": name}) from None
    if not value.is_finite() or abs(value) > limit:
        raise Refused(400, _("%(name)s is out of range.") % {"name": name})
    return value.quantize(decimal.Decimal("0.000001"))


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(a)))


def nearest_grid(*, user, latitude, longitude) -> OrgUnit | None:
    """The active grid or micro-grid of ``user``'s area whose centroid is nearest to the point (within reach)."""
    lat, lon = float(latitude), float(longitude)
    # Only the centroids in the box around the point that holds the reach (a city has 10,000+ grids).
    dlat = MAX_DISTANCE_KM / 111.0
    dlon = MAX_DISTANCE_KM / (111.0 * max(math.cos(math.radians(lat)), 0.01))
    candidates = (
        OrgUnit.objects.visible_to(user)
        .filter(level__in=HOUSEHOLD_LEVELS, is_active=True, latitude__range=(lat - dlat, lat + dlat),
                longitude__range=(lon - dlon, lon + dlon))
        .values_list("pk", "latitude", "longitude")
    )
    best = min(
        ((distance_km(lat, lon, float(c_lat), float(c_lon)), pk) for pk, c_lat, c_lon in candidates.iterator()),
        default=None,
    )
    if best is None or best[0] > MAX_DISTANCE_KM:
        return None
    return OrgUnit.objects.get(pk=best[1])


def _grid(data, client: Open311Client, latitude, longitude) -> OrgUnit:
    code = (data.get(f"attribute[{GRID_ATTRIBUTE}]") or "").strip()
    if code:
        grid = OrgUnit.objects.visible_to(client.user).filter(code=code, level__in=HOUSEHOLD_LEVELS).first()
        if grid is None:
            raise Refused(400, _("Grid %(code)s was not found or is outside this client's area.") % {"code": code})
        return grid
    if latitude is None:
        raise Refused(400, _("Give lat and long, or attribute[grid]."))
    grid = nearest_grid(user=client.user, latitude=latitude, longitude=longitude)
    if grid is None:
        raise Refused(400, _("No grid of this client's area is near lat/long: give attribute[grid]."))
    return grid


def _title(description: str, fallback: str) -> str:
    first_line = next((line.strip() for line in description.splitlines() if line.strip()), "")
    if not first_line:
        return fallback
    return first_line if len(first_line) <= 60 else first_line[:59] + "…"


# Our field names as the Open311 parameters a client sent.
PARAMETERS = {
    "title": "description", "description": "description", "category": "service_code", "grid": "attribute[grid]",
    "address": "address_string", "latitude": "lat", "longitude": "long", "reporter_name": "first_name/last_name",
    "reporter_phone": "phone",
}


def _described(exc: ValidationError) -> str:
    if not hasattr(exc, "error_dict"):
        return " ".join(exc.messages)
    return " ".join(
        f"{PARAMETERS.get(field, field)}: {' '.join(messages)}" if field != "__all__" else " ".join(messages)
        for field, messages in exc.message_dict.items()
    )


def _post_request(request, client):
    data = _form(request)
    code = (data.get("service_code") or "").strip()
    if not code:
        raise Refused(400, _("service_code is required."))
    category = next((c for c in _services() if c.code == code), None)
    if category is None:
        raise Refused(400, _("No such service_code."))
    description = (data.get("description") or "").strip()
    if not description:
        raise Refused(400, _("description is required."))
    lat, lon = (data.get("lat") or "").strip(), (data.get("long") or "").strip()
    if bool(lat) != bool(lon):
        raise Refused(400, _("Give both lat and long."))
    latitude = _coordinate(lat, "lat", 90) if lat else None
    longitude = _coordinate(lon, "long", 180) if lon else None
    grid = _grid(data, client, latitude, longitude)
    # Chinese names: family name (last_name) first.
    name = f"{(data.get('last_name') or '').strip()}{(data.get('first_name') or '').strip()}"
    try:
        case = case_create(
            user=client.user,
            title=_title(description, category.name)[:200],
            description=description,
            category=category,
            source=CaseSource.OPEN311,
            grid=grid,
            address=(data.get("address_string") or "").strip()[:200],
            latitude=latitude,
            longitude=longitude,
            reporter_name=name[:50],
            reporter_phone=(data.get("phone") or "").strip()[:20],
        )
    except ValidationError as exc:
        raise Refused(400, _described(exc)) from None
    notice = _("Received as case %(number)s; %(unit)s handles it.") % {
        "number": case.number, "unit": case.handling_unit.display_name,
    }
    return _json([{"service_request_id": case.number, "service_notice": notice, "account_id": None}], status=201)


app_name = "open311"
FORMAT = r"\.(?P<fmt>json|xml)$"
urlpatterns = [
    re_path(r"^services" + FORMAT, services_list, name="services"),
    re_path(r"^services/(?P<code>[-\w]+)" + FORMAT, service_definition, name="service"),
    re_path(r"^requests" + FORMAT, requests_view, name="requests"),
    re_path(r"^requests/(?P<number>[-\w]+)" + FORMAT, request_detail, name="request"),
]

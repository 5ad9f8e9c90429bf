"""Every page of the portal asks for a login, except the few that must not: the login itself and the
public village-affairs pages (村务公开), and the API's own public doors (Open311's discovery, the token
exchange). The test walks the whole URL resolver, so a page added tomorrow without a login fails it."""

import re

import pytest
from django.urls import get_resolver, resolve

from tests.helpers.routes import walk

# Public on purpose, with what an anonymous GET gets (the status proves the door, not just a redirect):
# a URL name (namespace:name) → status of an anonymous GET with the dummy parameters.
PUBLIC = {
    "login": 200,
    "logout": 405,  # a POST only (Django 5): logging out is no page
    "public:index": 200,  # 村务公开: the villages
    "public:village": 404,  # 村务公开: a village's page (the dummy code names no village)
    "api-token": 405,  # POST a login and password, get a token: public by nature
    "open311:services": 200,  # GeoReport v2 discovery is public (rate-limited per address)
    "open311:service": 404,  # the same, for one service (the dummy code names none)
    "admin:login": 200,
    "admin:logout": 302,  # to the admin's index, which asks for the login
    # For monitors, JSON without personal data: 200, or 503 when a check fails (no worker beats in this test).
    "healthz": (200, 503),
}
# The API answers an anonymous caller 401 or 403 (it never redirects to a login page); Open311's
# requests need a key (403). The API's documentation (/api/docs/) is a page: it asks for the login.
API_PREFIXES = ("/api/v1/", "/api/schema/", "/open311/", "/healthz")
LOGIN = "/login/"
ADMIN_LOGIN = "/admin/login/"

ROUTE_PARAMETER = re.compile(r"(?<!\?P)<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")
CANDIDATES = ("1", "x", "json")


def _group_end(text: str, start: int) -> int:
    """The index just past the parenthesis that closes the group opened at ``start``."""
    depth, i = 0, start
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == "(":
            depth += 1
        elif text[i] == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise ValueError(f"unbalanced group in {text!r}")


def _dummy_for(regex: str, name: str = "") -> str:
    """A value the group's regex accepts: json for a format, else 1, x or json, else its first alternative."""
    first = ("json",) if name in ("format", "fmt") else ()
    for candidate in (*first, *CANDIDATES, regex.split("|")[0]):
        if re.fullmatch(regex, candidate):
            return candidate
    raise ValueError(f"no dummy value for ({regex})")


def concrete(route: str) -> str:
    """A path for ``route`` with dummy values in its parameters (path converters and regex groups alike)."""
    route = ROUTE_PARAMETER.sub(lambda m: {"int": "1", "drf_format_suffix": ".json"}.get(m["converter"], "x"),
                                route)
    out, i = [], 0
    while i < len(route):
        if route[i] == "(":  # a group, named or not: a value its regex accepts
            end = _group_end(route, i)
            inner = route[i + 1:end - 1]
            named = inner.startswith("?P<")
            regex = inner[inner.index(">") + 1:] if named else inner.removeprefix("?:")
            out.append(_dummy_for(regex, inner[3:inner.index(">")] if named else ""))
            i = end
        elif route[i] == "\\" and i + 1 < len(route):
            out.append(route[i + 1])
            i += 2
        elif route[i] in "^$":
            i += 1
        elif route.startswith("/?", i):
            out.append("/")
            i += 2
        else:
            out.append(route[i])
            i += 1
    return "/" + "".join(out)


def every_route():
    routes = []
    for route, name, pattern in walk(get_resolver().url_patterns):
        path = concrete(route)
        match = resolve(path)  # the dummy path reaches the very view it was made for
        assert match.func == pattern.callback, (route, path, match.func)
        routes.append((name, path))
    return routes


ROUTES = every_route()


def test_the_walk_reaches_every_part_of_the_portal():
    paths = [path for _name, path in ROUTES]
    for prefix in ("/org/", "/dashboard/", "/grid/", "/party/", "/ledger/", "/public/", "/admin/", "/api/v1/",
                   "/open311/"):
        assert any(path.startswith(prefix) for path in paths), prefix
    names = {name for name, _path in ROUTES}
    assert set(PUBLIC) <= names, set(PUBLIC) - names  # no stale entry in the list of public doors


def _anonymous(client, path):
    """An anonymous GET; a POST when the route takes no GET (a 405 tells nothing about the login)."""
    response = client.get(path)
    if response.status_code == 405:
        response = client.post(path)
    return response


@pytest.mark.parametrize(("name", "path"), [route for route in ROUTES if route[0] not in PUBLIC],
                         ids=[f"{name or '?'} {path}" for name, path in ROUTES if name not in PUBLIC])
def test_every_other_page_needs_a_login(client, db, name, path):
    response = _anonymous(client, path)
    if path.startswith(API_PREFIXES):
        assert response.status_code in (401, 403), (path, response.status_code)
    elif path.startswith("/admin/"):
        assert response.status_code == 302 and response["Location"].startswith(ADMIN_LOGIN), path
    else:
        assert response.status_code == 302, (path, response.status_code)
        assert response["Location"].startswith(f"{LOGIN}?next="), (path, response["Location"])


@pytest.mark.parametrize(("name", "path"), [route for route in ROUTES if route[0] in PUBLIC],
                         ids=[f"{name} {path}" for name, path in ROUTES if name in PUBLIC])
def test_the_public_doors_open_without_a_login(client, db, name, path):
    response = client.get(path)
    expected = PUBLIC[name] if isinstance(PUBLIC[name], tuple) else (PUBLIC[name],)
    assert response.status_code in expected, (path, response.status_code)
    if response.status_code == 302:
        assert not response["Location"].startswith((LOGIN, ADMIN_LOGIN))


def test_only_the_public_pages_and_the_login_show_a_page_to_anyone(client, db):
    """Of the pages for people (not the API, not the admin), only the login and 村务公开 answer an anonymous
    visitor with a page of their own."""
    open_pages = set()
    for name, path in ROUTES:
        if path.startswith((*API_PREFIXES, "/admin/")):
            continue
        response = client.get(path)
        if response.status_code != 302 or not response["Location"].startswith(LOGIN):
            open_pages.add(name)
    assert open_pages == {"login", "logout", "public:index", "public:village"}

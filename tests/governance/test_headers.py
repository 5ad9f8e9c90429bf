"""The security headers (governance/portal/security.py and django-csp) and the pages that live under them.

A browser obeys the Content-Security-Policy: scripts only from the portal's own files, no inline
script and no ``on*=`` attribute, nothing framing the portal. Permissions-Policy refuses camera,
microphone, location and the like. Pages, exports and API answers carry personal data, so a signed-in
user's responses and every API response say ``no-store``; the public village pages keep their own
caching. The crawl at the end renders the portal's pages as an administrator and finds no inline
script or handler in any of them (tests/e2e/test_csp.py runs the pages in a real browser).
"""

import re

import pytest
from django.urls import URLPattern, get_resolver
from rest_framework.authtoken.models import Token

from grid.models import CaseCategory
from grid.services import cases as svc
from tests.helpers.routes import walk

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I)
JS_URL = re.compile(r"""(?:href|src|action)\s*=\s*["']\s*javascript:""", re.I)


def directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


def assert_policy(response):
    policy = directives(response)
    assert policy["script-src"] == ["'self'"], "scripts from the portal's files only: no inline, no eval"
    assert policy["default-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"] and policy["base-uri"] == ["'self'"]
    assert policy["connect-src"] == ["'self'"] and policy["img-src"] == ["'self'", "data:"]
    permissions = response["Permissions-Policy"]
    for refused in ("camera=()", "microphone=()", "geolocation=()", "payment=()", "usb=()"):
        assert refused in permissions


def assert_no_store(response):
    assert "no-store" in response["Cache-Control"], response.get("Cache-Control")


def inline_code(html: str) -> list[str]:
    """The inline scripts, on*= handlers and javascript: URLs of a page (with some context)."""
    found = []
    for pattern in (INLINE_SCRIPT, HANDLER, JS_URL):
        found += [html[max(0, m.start() - 60): m.end() + 60] for m in pattern.finditer(html)]
    return found


@pytest.fixture
def case(county, clerk_a):
    return svc.case_create(user=clerk_a, title="危房", description="墙体开裂",
                           category=CaseCategory.objects.get(code="hazard-building"), grid=county.micro_grids[0],
                           reporter_phone="13812345678")


def test_a_page_of_a_signed_in_clerk_has_the_policy_and_is_not_stored(staff, clerk_a, case):
    response = staff(clerk_a).get(f"/grid/cases/{case.pk}/")
    assert response.status_code == 200
    assert_policy(response)
    assert_no_store(response)
    assert inline_code(response.content.decode()) == []


def test_an_export_is_not_stored(staff, clerk_a, case):
    response = staff(clerk_a).get("/grid/cases/?export=xlsx")
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    assert_no_store(response)
    assert "Permissions-Policy" in response


def test_an_api_answer_to_a_token_is_not_stored(client, clerk_a, case):
    """A token caller has no session: the API's path alone says no-store."""
    token = Token.objects.create(user=clerk_a)
    response = client.get("/api/v1/cases/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 200
    assert case.number in [row["number"] for row in response.json()["results"]]
    assert_no_store(response)
    assert_policy(response)
    # An anonymous caller's refusal is not kept either.
    refused = client.get("/api/v1/cases/")
    assert refused.status_code in (401, 403)
    assert_no_store(refused)


def test_the_login_page_has_the_policy_and_is_not_stored(client):
    response = client.get("/login/")
    assert response.status_code == 200
    assert_policy(response)
    assert_no_store(response)
    assert inline_code(response.content.decode()) == []


def test_the_public_village_pages_keep_their_own_caching(client, county, clerk_a, staff):
    response = client.get("/public/")
    assert response.status_code == 200
    assert "public" in response["Cache-Control"] and "max-age" in response["Cache-Control"]
    assert "no-store" not in response["Cache-Control"]
    assert_policy(response)
    assert inline_code(response.content.decode()) == []
    # The same page to a signed-in clerk: still the public page's caching (nothing of his is on it).
    again = staff(clerk_a).get("/public/")
    assert "no-store" not in again["Cache-Control"] and "max-age" in again["Cache-Control"]


def test_the_api_docs_page_loads_its_start_up_script_from_a_file(staff, admin_user):
    client = staff(admin_user)
    page = client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert inline_code(html) == [], "the Swagger UI's start-up script must not be inline"
    src = re.search(r'<script src="([^"]*\?[^"]*script=[^"]*)"', html)
    assert src, html
    script = client.get(src.group(1).replace("&amp;", "&"))
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle(" in script.content.decode()


# --- The crawl --------------------------------------------------------------------------------------

# Pages that are no HTML page to look at (files, fragments for htmx, API or redirects only).
SKIP_PREFIXES = ("/api/v1/", "/api/schema/", "/open311/", "/admin/logout/", "/logout/", "/i18n/")


def simple_pages() -> list[str]:
    """Every route without a parameter: the lists, dashboards, forms and the admin's changelists."""
    paths = []
    for route, _name, pattern in walk(get_resolver().url_patterns):
        if not isinstance(pattern, URLPattern) or "<" in route or "(?P" in route:
            continue
        path = "/" + route.lstrip("^").rstrip("$").replace("\\Z", "").replace("\\", "")
        if path.startswith(SKIP_PREFIXES) or any(c in path for c in "()[]?*+"):
            continue
        paths.append(path)
    return sorted(set(paths))


def test_no_page_of_the_portal_carries_an_inline_script_or_handler(staff, admin_user, county, case):
    """As the administrator (he sees every menu): each page without a parameter, and the main detail pages."""
    client = staff(admin_user)
    pages = simple_pages() + [f"/grid/cases/{case.pk}/", f"/grid/cases/{case.pk}/sheet/",
                              f"/admin/grid/case/{case.pk}/change/", f"/dashboard/{county.township_a.code}/"]
    looked_at, offending = 0, {}
    for path in pages:
        response = client.get(path)
        if response.status_code != 200 or not response.get("Content-Type", "").startswith("text/html"):
            continue
        looked_at += 1
        found = inline_code(response.content.decode())
        if found:
            offending[path] = found[:3]
        assert "Content-Security-Policy" in response, path
    assert offending == {}, offending
    assert looked_at >= 40, f"only {looked_at} pages rendered: the crawl lost its way"

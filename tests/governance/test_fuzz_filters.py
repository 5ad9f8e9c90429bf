"""Hostile values in filters never answer 500: a NUL byte (``%00``) and a digit that is not ASCII (``³``:
``"³".isdigit()`` is true, ``int("³")`` fails).

Every query parameter of every API list (read from the OpenAPI schema, so a filter added tomorrow is
covered) answers 400 naming the parameter, or the list; every page without arguments shows itself (a
form error or the filter ignored) for ``³`` and refuses a NUL with a 400 page. On PostgreSQL a NUL in
any text reached the driver and failed there; on SQLite it was stored: both runs of ``make test`` run
this module.
"""

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator

from governance.models import ExportLog

NUL, NOT_ASCII = "\x00", "³"
NUL_MESSAGE = "此处不允许出现空字符（\\0）。"
# Parameters that pages read by hand (found by fuzzing every page with every parameter any view reads):
# each of these answered 500 on "³" before.
RAW_PAGE_PARAMETERS = [
    ("/grid/cases/new/", "grid"), ("/grid/cases/new/", "category"),
    ("/grid/cases/duplicates/", "grid"), ("/grid/cases/duplicates/", "category"),
    ("/party/registrations/new/", "member"), ("/party/services/", "member"),
    ("/party/pickers/members/", "wish"), ("/party/pickers/households/", "community"),
    ("/ledger/registers/picker/", "village"), ("/ledger/assets/", "unit"), ("/ledger/assets/", "year"),
    *((f"/ledger/statements/{page}/", name)
      for page in ("trial-balance", "balance-sheet", "income-statement", "general-ledger", "detail-ledger",
                   "township-overview")
      for name in ("unit", "year", "month", "month_from", "page")),
]
# Parameters every page without arguments gets at once (each is read by some page or its filter form).
PAGE_PARAMETERS = sorted({name for _, name in RAW_PAGE_PARAMETERS} | {
    "township", "household", "q", "state", "sort", "kind", "organization", "book", "account", "liaison",
    "worker_type", "post", "level", "tag", "status", "what", "token", "export", "print",
})


def caller(user) -> Client:
    """A client that answers a server error as a 500 (as a browser sees it), not by raising."""
    from governance.roles import user_sync_permissions

    user_sync_permissions(user)
    client = Client(raise_request_exception=False)
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def api_list_parameters():
    """(path, [query parameter names]) of every API list and collection GET in the OpenAPI schema."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path, operations in schema["paths"].items():
        get = operations.get("get")
        if get is None or "{" in path:
            continue
        yield path, [p["name"] for p in get.get("parameters", []) if p["in"] == "query"]


def pages():
    """Every page that takes no argument in its path (the API, Open311, the admin and logout apart)."""

    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                yield "/" + prefix + str(pattern.pattern)

    # /healthz answers 503 by design while no worker has reported (tests/governance/test_healthz.py).
    skip = ("/api/", "/open311/", "/admin/", "/logout/", "/healthz")
    return [url for url in walk(get_resolver().url_patterns) if "<" not in url and "(" not in url
            and "^" not in url and not url.startswith(skip)]


@pytest.fixture(params=["admin_user", "clerk_a"])
def user(request, county):
    return request.getfixturevalue(request.param)


def test_every_api_filter_refuses_a_nul_with_a_400_naming_it(user):
    client, failures = caller(user), []
    for path, names in api_list_parameters():
        for name in names:
            response = client.get(path, {name: NUL})
            if response.status_code != 400 or name not in response.json():
                failures.append((path, name, response.status_code, response.content[:120].decode()))
    assert not failures, "\n".join(map(str, failures))
    # The message is the portal's, in Chinese.
    assert client.get("/api/v1/residents/", {"household": NUL}).json() == {"household": [NUL_MESSAGE]}


def test_every_api_filter_answers_a_non_ascii_digit_without_a_server_error(user):
    """A list, or a 400/404 in the API's JSON shape (a page that cannot be read, a unit not found, a required
    parameter missing): never a 500."""
    client, failures = caller(user), []
    for path, names in api_list_parameters():
        for name in names:
            response = client.get(path, {name: NOT_ASCII})
            if response.status_code not in (200, 400, 404) or not isinstance(response.json(), dict | list):
                failures.append((path, name, response.status_code, response.content[:120].decode()))
    assert not failures, "\n".join(map(str, failures))


def test_a_household_or_unit_given_as_a_non_ascii_digit_is_not_found(county, clerk_a):
    client = caller(clerk_a)
    refused = client.get("/api/v1/households/", {"unit": NOT_ASCII}, HTTP_ACCEPT_LANGUAGE="en")
    assert refused.status_code == 400
    assert refused.json() == {"unit": ["³ was not found or is outside your scope."]}
    refused = client.get("/api/v1/residents/", {"household": NOT_ASCII}, HTTP_ACCEPT_LANGUAGE="en")
    assert refused.status_code == 400 and "household" in refused.json()


def test_every_page_shows_itself_for_non_ascii_digits_in_its_filters(user):
    client = caller(user)
    failures = [
        (url, response.status_code) for url in pages()
        if (response := client.get(url, dict.fromkeys(PAGE_PARAMETERS, NOT_ASCII))).status_code >= 500
    ]
    failures += [
        (url, name, response.status_code) for url, name in RAW_PAGE_PARAMETERS
        if (response := client.get(url, {name: NOT_ASCII})).status_code >= 500
    ]
    assert not failures, "\n".join(map(str, failures))


def test_a_statement_page_answers_a_non_ascii_year_with_a_form_error(county, clerk_a):
    response = caller(clerk_a).get("/ledger/statements/trial-balance/", {"year": NOT_ASCII})
    assert response.status_code == 400  # the page, with the error on its form
    assert "请输入1990到2100之间的年度。" in response.content.decode()


def test_every_page_refuses_a_nul_with_a_400_page(user):
    client = caller(user)
    failures = []
    for url in pages():
        response = client.get(url, dict.fromkeys(PAGE_PARAMETERS, NUL))
        if response.status_code != 400 or NUL_MESSAGE not in response.content.decode():
            failures.append((url, response.status_code))
    assert not failures, "\n".join(map(str, failures))


def test_a_nul_in_the_path_a_form_field_or_the_admin_search_is_a_400(county, admin_user):
    client = caller(admin_user)
    assert client.get("/dashboard/%00/").status_code == 400
    assert client.get("/admin/governance/resident/", {"q": NUL}).status_code == 400
    response = client.post("/party/wishes/new/", {"title": "修缮\x00院墙"})
    assert response.status_code == 400 and "title: " + NUL_MESSAGE in response.content.decode()


def test_a_nul_in_an_exports_parameters_is_refused_before_the_export_is_logged(county, admin_user):
    client = caller(admin_user)
    for params in ({"export": "xlsx", "q": NUL}, {"export": "xlsx", "note": f"a{NUL}b"}):
        response = client.get("/party/members/", params)
        assert response.status_code == 400 and NUL_MESSAGE in response.content.decode()
    assert not ExportLog.objects.exists()
    exported = client.get("/party/members/", {"export": "xlsx", "q": county.residents[0].name})
    assert exported.status_code == 200
    assert ExportLog.objects.get().filters == {"export": "xlsx", "q": county.residents[0].name}

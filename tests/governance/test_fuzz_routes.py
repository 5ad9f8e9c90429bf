"""Routes and bodies that answered 500 when fuzzed: the ``.json`` suffix on the API's action routes, a wish
posted without a category, a NUL in Open311's ``attribute[grid]``."""

import json
import re

import pytest
from django.core.cache import cache
from django.test import Client

import governance.urls  # noqa: F401 - fills the router's registry (autodiscover) before router.urls is read
from governance.portal.api import router
from grid.admin.cases import open311_key_issue
from grid.models import Case, CaseSource, Open311Client
from partybuild.models import Wish, WishCategory
from tests.helpers.api import send

NUL_MESSAGE = "A NUL character (\\0) is not allowed here."
FORMAT_GROUP = re.compile(r"\\\.\(\?P<format>[^)]*\)/\?\$$")
PK_GROUP = re.compile(r"\(\?P<pk>[^)]*\)")


def caller(user) -> Client:
    """A client that answers a server error as a 500 (as a program sees it), not by raising."""
    from governance.roles import user_sync_permissions

    user_sync_permissions(user)
    client = Client(raise_request_exception=False)
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def suffixed_routes():
    """(URL with ``.json``, HTTP methods, name) of every format-suffixed route of the API, each ``pk`` the
    first row of its viewset's model (1 when it has none)."""
    for url in router.urls:
        regex = url.pattern.regex.pattern
        if not FORMAT_GROUP.search(regex):
            continue
        view = url.callback
        path = FORMAT_GROUP.sub(".json", regex).lstrip("^").replace("\\", "")
        if "(?P<pk>" in regex:
            viewset = view.cls
            model = viewset.model if getattr(viewset, "model", None) else viewset.queryset.model
            row = model.objects.order_by("pk").first()  # the cast keeps no ledger: those answer 404
            path = PK_GROUP.sub(str(row.pk if row else 1), FORMAT_GROUP.sub(".json", regex)).lstrip("^")
            path = path.replace("\\", "")
        assert "(?P<" not in path, path
        methods = sorted(getattr(view, "actions", None) or {"get": "root"})
        yield "/api/v1/" + path, methods, url.name


def test_every_suffixed_api_route_answers_json_without_a_server_error(county, admin_user):
    """21 action routes answered 500 with ``.json`` (their methods did not take DRF's ``format`` keyword)."""
    client, failures, seen = caller(admin_user), [], 0
    for path, methods, name in suffixed_routes():
        for method in methods:
            if method == "delete":
                continue  # a delete would take the row from the routes after it
            if method in ("get", "head", "options"):
                response = getattr(client, method)(path)
            else:
                response = send(client, method, path, {})
            seen += 1
            json_answer = method == "head" or response["Content-Type"].startswith("application/json")
            if response.status_code >= 500 or not json_answer:
                failures.append((method.upper(), path, name, response.status_code))
    assert seen > 100  # every route of the API, actions included
    assert not failures, "\n".join(map(str, failures))


@pytest.mark.parametrize("path", ["ledger/statements/trial-balance", "households", "residents/{resident}",
                                  "indicators/series"])
def test_a_suffixed_get_answers_what_the_plain_route_answers(county, admin_user, path):
    client = caller(admin_user)
    path = path.format(resident=county.residents[0].pk)
    plain, suffixed = client.get(f"/api/v1/{path}/"), client.get(f"/api/v1/{path}.json")
    assert suffixed.status_code == plain.status_code
    assert suffixed.json() == plain.json()


def test_a_step_action_works_through_its_suffixed_route(county, clerk_a):
    """``POST /api/v1/wishes/{id}/dispatch.json`` is the step, not a 500."""
    wish = county.wishes[0]
    response = send(caller(clerk_a), "post", f"/api/v1/wishes/{wish.pk}/dispatch.json", {"member": None})
    assert response.status_code == 200, response.content
    assert response.json()["state"] == Wish.objects.get(pk=wish.pk).state == "dispatched"


def test_a_wish_posted_without_a_category_is_filed_as_other(county, clerk_a):
    response = send(caller(clerk_a), "post", "/api/v1/wishes/", {
        "community": county.villages[0].code, "household": county.households[0].number, "title": "修缮院墙",
    })
    assert response.status_code == 201, response.content
    assert response.json()["category"] == WishCategory.OTHER
    assert Wish.objects.get(pk=response.json()["id"]).category == WishCategory.OTHER


# --- Open311 ------------------------------------------------------------------------------------------


@pytest.fixture
def open311_key(clerk_a):
    cache.clear()  # the rate windows live in the shared cache
    client = Open311Client(name="随手拍", user=clerk_a, per_minute=100)
    key = open311_key_issue(client)
    client.save()
    yield key
    cache.clear()


@pytest.mark.parametrize("as_json", [False, True], ids=["form", "json"])
@pytest.mark.parametrize("field", ["attribute[grid]", "description", "first_name"])
def test_a_nul_in_an_open311_request_is_an_open311_400(client, county, open311_key, field, as_json):
    body = {"api_key": open311_key, "service_code": "sanitation-garbage", "description": "村口垃圾堆放",
            "attribute[grid]": county.micro_grids[0].code}
    body[field] = body.get(field, "张") + "\x00"
    if as_json:
        response = client.post("/open311/v2/requests.json", json.dumps(body), content_type="application/json",
                               HTTP_ACCEPT_LANGUAGE="en")
    else:
        response = client.post("/open311/v2/requests.json", body, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert response.json() == [{"code": 400, "description": f"{field}: {NUL_MESSAGE}"}]
    assert not Case.objects.filter(source=CaseSource.OPEN311).exists()


def test_a_nul_in_an_open311_query_is_an_open311_400(client, county, open311_key):
    response = client.get("/open311/v2/requests.json", {"api_key": open311_key, "status": "open\x00"},
                          HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert response.json() == [{"code": 400, "description": f"status: {NUL_MESSAGE}"}]


def test_a_nul_in_a_json_body_naming_a_related_row_is_a_400(county, clerk_a):
    """A row given by its code (a community, a household) with a NUL: PostgreSQL refused the lookup (500)."""
    response = send(caller(clerk_a), "post", "/api/v1/wishes/", {
        "community": county.villages[0].code + "\x00", "household": county.households[0].number, "title": "修缮院墙",
    })
    assert response.status_code == 400
    assert response.json() == {"community": [NUL_MESSAGE]}
    assert not Wish.objects.filter(title="修缮院墙").exists()

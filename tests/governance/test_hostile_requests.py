"""Every text has a maximum, and a body too large is refused unread: 413 before a byte is read, 400 by field.

The body limit is ``API_MAX_BODY_BYTES`` (governance/portal/limits.py); the text maxima are the
models' ``max_length``, which forms, the API's serializers and the model's own validation refuse.
"""

import io
import json
from urllib.parse import urlencode

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models
from django.test import Client
from django.urls import reverse

from governance.roles import user_sync_permissions
from grid.models import Case, CaseEvent
from partybuild.models import Wish

CASES = "/api/v1/cases/"
WISHES = "/api/v1/wishes/"
APPS = ("governance", "partybuild", "grid", "collective_economy")


class UnreadStream(io.BytesIO):
    """A request's input that counts what is read from it."""

    def __init__(self, data: bytes = b""):
        super().__init__(data)
        self.bytes_read = 0

    def read(self, size=-1):
        chunk = super().read(size)
        self.bytes_read += len(chunk)
        return chunk


@pytest.fixture
def writer(db):
    def _writer(user):
        user_sync_permissions(user)
        client = Client()
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        return client

    return _writer


def case_data(county, **change) -> dict:
    return {"title": "危房", "description": "墙体开裂", "category": "hazard-building",
            "grid": county.micro_grids[0].code, **change}


# --- Every text field has a maximum -------------------------------------------------------------


def test_every_text_field_of_the_four_apps_has_a_maximum():
    unbounded = [
        f"{model._meta.label}.{field.name}"
        for app in APPS
        for model in apps.get_app_config(app).get_models()
        for field in model._meta.get_fields()
        if isinstance(field, models.CharField | models.TextField) and field.max_length is None
    ]
    assert unbounded == []
    # The model's own validation holds a TextField to it (Django's TextField alone does not).
    texts = [
        field for app in APPS for model in apps.get_app_config(app).get_models()
        for field in model._meta.get_fields() if isinstance(field, models.TextField)
    ]
    assert len(texts) >= 12
    for field in texts:
        with pytest.raises(ValidationError):
            field.clean("字" * (field.max_length + 1), None)


def test_an_over_long_case_description_is_a_400_with_the_field_message(county, clerk_a, writer):
    limit = Case._meta.get_field("description").max_length
    client = writer(clerk_a)
    response = client.post(CASES, json.dumps(case_data(county, description="裂" * (limit + 1))),
                           content_type="application/json")
    assert response.status_code == 400, response.content
    assert list(response.json()) == ["description"]
    assert str(limit) in response.json()["description"][0] and "字符" in response.json()["description"][0]
    assert not Case.objects.filter(title="危房").exists()
    # At the maximum it is taken.
    response = client.post(CASES, json.dumps(case_data(county, description="裂" * limit)),
                           content_type="application/json")
    assert response.status_code == 201, response.content
    assert len(Case.objects.get(pk=response.json()["id"]).description) == limit


def test_an_over_long_wish_is_a_400_with_the_field_message(county, village_a, writer):
    limit = Wish._meta.get_field("content").max_length
    data = {"community": county.villages[0].code, "household": county.households[0].number, "title": "换灯泡",
            "category": "housing", "content": "灯" * (limit + 1)}
    response = writer(village_a).post(WISHES, json.dumps(data), content_type="application/json")
    assert response.status_code == 400, response.content
    assert list(response.json()) == ["content"] and str(limit) in response.json()["content"][0]
    assert not Wish.objects.filter(title="换灯泡").exists()


def test_an_over_long_step_comment_is_a_400(county, clerk_a, writer):
    case = county.cases[0]
    limit = CaseEvent._meta.get_field("comment").max_length
    response = writer(clerk_a).post(f"{CASES}{case.pk}/reject/", json.dumps({"reason": "不" * (limit + 1)}),
                                    content_type="application/json")
    assert response.status_code == 400 and list(response.json()) == ["reason"]
    case.refresh_from_db()
    assert case.state == "reported"


def test_the_report_form_refuses_an_over_long_description(county, clerk_a, writer):
    limit = Case._meta.get_field("description").max_length
    form = writer(clerk_a).get(reverse("grid:case-create")).context["form"]
    assert form.fields["description"].max_length == limit
    assert f'maxlength="{limit}"' in str(form["description"])


# --- The body's size ---------------------------------------------------------------------------


def test_a_body_past_the_limit_is_a_413_before_it_is_read(county, clerk_a, writer, settings):
    stream = UnreadStream(json.dumps(case_data(county, description="裂" * 4000)).encode() * 200)
    length = len(stream.getvalue())
    assert length > settings.API_MAX_BODY_BYTES
    response = writer(clerk_a).generic("POST", CASES, b"", content_type="application/json",
                                       **{"wsgi.input": stream, "CONTENT_LENGTH": str(length)})
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert "请求内容超过 2.0\xa0MB" in response.json()["detail"]
    assert stream.bytes_read == 0
    assert not Case.objects.filter(title="危房").exists()


def test_a_30_mb_description_is_refused(county, clerk_a, writer):
    body = json.dumps(case_data(county, description="x" * 30 * 2**20))
    response = writer(clerk_a).post(CASES, body, content_type="application/json")
    assert response.status_code == 413 and "detail" in response.json()
    assert not Case.objects.filter(title="危房").exists()


def test_a_page_form_past_the_limit_is_a_413_in_text(county, clerk_a, writer, settings):
    settings.API_MAX_BODY_BYTES = 10_000
    body = urlencode({"title": "危房", "description": "裂" * 5000})
    response = writer(clerk_a).post(reverse("grid:case-create"), body,
                                    content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/plain") and "请求内容超过" in response.content.decode()


def test_a_chunked_body_is_read_at_most_to_the_limit(county, clerk_a, writer, settings):
    """Without a length (chunked, the server marking where the body ends): over the limit it is refused
    after reading the limit and a byte; within it, it is taken as if it had come with a length."""
    settings.API_MAX_BODY_BYTES = 50_000
    client = writer(clerk_a)
    big = UnreadStream(b"[" + b"1," * 100_000 + b"1]")
    chunked = {"CONTENT_LENGTH": "", "CONTENT_TYPE": "application/json", "HTTP_TRANSFER_ENCODING": "chunked",
               "wsgi.input_terminated": True}
    response = client.generic("POST", CASES, b"", **chunked, **{"wsgi.input": big})
    assert response.status_code == 413 and big.bytes_read == 50_001
    small = UnreadStream(json.dumps(case_data(county)).encode())
    response = client.generic("POST", CASES, b"", **chunked, **{"wsgi.input": small})
    assert response.status_code == 201, response.content
    assert Case.objects.get(pk=response.json()["id"]).description == "墙体开裂"


def test_a_multipart_upload_keeps_its_own_limit(county, clerk_a, writer, settings):
    """An attachment larger than the body limit still goes through: uploads have their own limits."""
    from tests.helpers.cases import PNG_1PX

    settings.API_MAX_BODY_BYTES = 10_000
    photo = SimpleUploadedFile("photo.png", PNG_1PX + b"\x00" * 50_000, content_type="image/png")
    response = writer(clerk_a).post(CASES, {**case_data(county), "attachments": [photo]})
    assert response.status_code == 201, response.content
    assert [a["size"] for a in response.json()["case_attachments"]] == [len(PNG_1PX) + 50_000]


def test_an_over_long_open311_description_is_a_400_that_names_it(county, clerk_a, client):
    from django.core.cache import cache

    from grid.admin.cases import open311_key_issue
    from grid.models import Open311Client

    cache.clear()  # the Open311 rate windows of earlier tests
    api = Open311Client(name="随手拍", user=clerk_a, per_minute=100)
    key = open311_key_issue(api)
    api.save()
    limit = Case._meta.get_field("description").max_length
    body = {"service_code": "sanitation-garbage", "description": "垃" * (limit + 1), "api_key": key,
            "attribute[grid]": county.micro_grids[0].code}
    response = client.post("/open311/v2/requests.json", body, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert response.json()[0]["description"].startswith("description:") and str(limit) in response.content.decode()
    assert not Case.objects.filter(description__startswith="垃垃").exists()
    body["description"] = "垃" * limit
    assert client.post("/open311/v2/requests.json", body, HTTP_ACCEPT_LANGUAGE="en").status_code == 201

"""Calls to the REST API under /api/v1/, in English so that messages can be compared."""

import json


def get(client, url, **params):
    """The JSON of a successful GET of ``url`` with the query ``params``."""
    response = client.get(url, params, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200, response.content
    return response.json()


def send(client, method: str, url, data):
    """``data`` sent as JSON with ``method`` (post, put, patch); the response."""
    return getattr(client, method)(url, json.dumps(data), content_type="application/json", HTTP_ACCEPT_LANGUAGE="en")


def post(client, url, data=None):
    """``data`` (nothing by default, as a step without fields) posted as JSON; the response."""
    return send(client, "post", url, data or {})

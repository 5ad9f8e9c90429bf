"""The API's OpenAPI schema class (``REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"]``).

Apart from governance.portal.api: DRF imports the schema class while reading its settings, which the
API bases read too (an import cycle if they shared a module).
"""

import drf_spectacular.openapi

# DRF's error bodies: ``{"detail": message}``, or ``{field: [messages]}`` for a refused input.
ERROR_BODY = {
    "type": "object",
    "additionalProperties": {"oneOf": [{"type": "string"}, {"type": "array", "items": {}}, {"type": "object"}]},
    "description": "{\"detail\": message} or {field or parameter: [messages]}",
}
ERROR_ANSWERS = {
    "400": "A parameter or a field is refused; the body names it.",
    "401": "No credentials, or a token that is not valid.",
    "403": "Your role may not do this.",
    "404": "Not found, or outside your area (also a list page past the end).",
    "405": "This method is not allowed here.",
}


class AutoSchema(drf_spectacular.openapi.AutoSchema):
    """drf-spectacular's schema, with the error answers every operation may give documented (a client
    reading the schema, and schemathesis checking the API against it, know them)."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for code, description in ERROR_ANSWERS.items():
            responses.setdefault(code, {
                "description": description, "content": {"application/json": {"schema": ERROR_BODY}},
            })
        return responses

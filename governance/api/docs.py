"""The API's schema and its Swagger UI, for the people who read them in a browser.

Both need a signed-in user (``SPECTACULAR_SETTINGS["SERVE_PERMISSIONS"]``). A browser that is not
signed in is sent to the login page and back (``?next=``) rather than shown a bare 403, which for
the schema would come with an OpenAPI content type the browser offers to download. A program that
asks for the schema (JSON or YAML) without credentials still gets the API's 403, and one that sends
its token gets the schema as before.
"""

from django.contrib.auth.views import redirect_to_login
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import exceptions


def _wants_a_page(request) -> bool:
    return "text/html" in request.META.get("HTTP_ACCEPT", "")


class _LoginFirstMixin:
    always_a_page = False

    def handle_exception(self, exc):
        request = self.request
        refused = isinstance(exc, exceptions.NotAuthenticated | exceptions.PermissionDenied)
        anonymous = not getattr(request.user, "is_authenticated", False)
        if refused and anonymous and (self.always_a_page or _wants_a_page(request)):
            return redirect_to_login(request.get_full_path())
        return super().handle_exception(exc)


class SchemaView(_LoginFirstMixin, SpectacularAPIView):
    """The OpenAPI schema; YAML or JSON by content negotiation (``?format=json`` too)."""


class SwaggerView(_LoginFirstMixin, SpectacularSwaggerSplitView):
    """The Swagger UI page over the schema. Its start-up script is served by the same view
    (``?script``) rather than inline, so the page runs under the Content-Security-Policy."""

    always_a_page = True

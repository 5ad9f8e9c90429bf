"""The portal's security headers, in one place.

The Content-Security-Policy itself is django-csp's (``csp.middleware.CSPMiddleware``, the policy in
``settings.CONTENT_SECURITY_POLICY``): scripts only from the portal's own files, no inline script,
no ``on*=`` handler attribute, no eval. This middleware adds the rest:

- ``Permissions-Policy`` (``settings.PERMISSIONS_POLICY``): the browser features no page uses —
  camera, microphone, location, payment, USB… — are refused to the portal and to anything it
  might embed;
- ``Cache-Control: private, no-store`` on every response to a signed-in user and on every API
  response (``settings.NO_STORE_PATH_PREFIXES``): pages, exports and API answers carry personal
  data, which no shared cache, proxy or browser history should keep. A view that set its own
  Cache-Control keeps it (the public village pages, an attachment the browser may keep for an
  hour); static files are served before this middleware (WhiteNoise) and keep theirs.
"""

from django.conf import settings


def permissions_policy_header(policy: dict[str, list[str]]) -> str:
    """``{"camera": [], "fullscreen": ["self"]}`` → ``camera=(), fullscreen=(self)``."""
    return ", ".join(f"{feature}=({' '.join(allow)})" for feature, allow in policy.items())


class SecurityHeadersMiddleware:
    """Permissions-Policy on every response; no-store on the responses that may hold personal data.

    Placed after ``AuthenticationMiddleware`` (it reads ``request.user``).
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.permissions_policy = permissions_policy_header(settings.PERMISSIONS_POLICY)
        self.no_store_prefixes = tuple(settings.NO_STORE_PATH_PREFIXES)

    def __call__(self, request):
        response = self.get_response(request)
        if self.permissions_policy and "Permissions-Policy" not in response:
            response["Permissions-Policy"] = self.permissions_policy
        if "Cache-Control" not in response and self._personal(request):
            response["Cache-Control"] = "private, no-store"
        return response

    def _personal(self, request) -> bool:
        """An API response, or any response to a signed-in user (asked only when the view set no
        Cache-Control, so that anonymous public pages do not load the session for it)."""
        if request.path_info.startswith(self.no_store_prefixes):
            return True
        user = getattr(request, "user", None)
        return bool(user is not None and user.is_authenticated)

"""Small helpers of the portal's views that every app uses."""

from django.utils.http import url_has_allowed_host_and_scheme


def is_portal_url(request, url: str) -> bool:
    """Whether ``url`` points inside the portal (never to another host), so it may be followed."""
    return bool(url) and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()},
                                                         require_https=request.is_secure())


def safe_next(request, default: str) -> str:
    """The ``next`` parameter (POST, else GET) when it points inside the portal, else ``default``."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    return target if is_portal_url(request, target) else default

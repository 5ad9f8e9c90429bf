"""The public village-affairs pages (村务公开), mounted at /public/: the only pages without a login.

- ``/public/`` lists the villages by township;
- ``/public/<village code>/`` is a village's page: its published decisions, the quarter's income and
  expenses, the contracts in force and the projects (``collective_economy.selectors.public``, which
  holds no personal data by construction).

Anyone may read them, so they are built to stand it: GET and HEAD only; every call counted against
its address (``PUBLIC_PAGES_PER_MINUTE``, a 429 page past it); the page rendered once per village and
language and served from the cache for ``PUBLIC_PAGE_CACHE_SECONDS`` without touching the database.
A cache that cannot be reached only costs the rendering (logged). Search engines are asked not to
index them (``X-Robots-Tag``): the page is for the village's own people, on the notice board and
through its QR code. The template stands alone (no staff rail, no user menu), in large type, and
prints on A4 for the notice board with the date it was produced.
"""

import logging

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_safe

from collective_economy.selectors import public as selectors
from governance.portal.ratelimit import client_address, within_limit

logger = logging.getLogger(__name__)

CODE_MAX_LENGTH = 32


def cache_seconds() -> int:
    return settings.PUBLIC_PAGE_CACHE_SECONDS


def per_minute() -> int:
    return settings.PUBLIC_PAGES_PER_MINUTE


def _public(response: HttpResponse, *, cached: bool = True) -> HttpResponse:
    response["X-Robots-Tag"] = "noindex, nofollow"
    if cached:
        patch_cache_control(response, public=True, max_age=cache_seconds())
    else:
        patch_cache_control(response, no_store=True)
    return response


def _from_cache(key: str) -> bytes | None:
    try:
        return cache.get(key)
    except Exception:
        logger.warning("Public page cache unavailable: rendering %s", key, exc_info=True)
        return None


def _to_cache(key: str, content: bytes) -> None:
    try:
        cache.set(key, content, timeout=cache_seconds())
    except Exception:
        logger.warning("Public page cache unavailable: %s not kept", key, exc_info=True)


def public_page(name: str):
    """A rate-limited public page kept in the cache under ``name`` (formatted with the URL's parameters):
    the view renders it on a miss; only a 200 is kept (a 404 for a mistyped code is not)."""

    def decorate(view):
        @require_safe
        def wrapper(request, **kwargs):
            if not within_limit(f"public:ip:{client_address(request)}", per_minute()):
                response = render(request, "collective_economy/public/too_many.html",
                                  {"per_minute": per_minute()}, status=429)
                response["Retry-After"] = "60"
                return _public(response, cached=False)
            key = selectors.cache_key(name.format(**kwargs))
            content = _from_cache(key)
            if content is None:
                response = view(request, **kwargs)
                if response.status_code != 200:
                    return _public(response, cached=False)
                content = response.content
                _to_cache(key, content)
            return _public(HttpResponse(content))

        wrapper.__name__ = view.__name__
        wrapper.__doc__ = view.__doc__
        return wrapper

    return decorate


def _not_found(request):
    return render(request, "collective_economy/public/not_found.html", status=404)


@public_page("index")
def index(request):
    """Every village by township: where a villager finds his village's page."""
    return render(request, "collective_economy/public/index.html", {"groups": selectors.village_index()})


@public_page("village:{code}")
def village(request, code: str):
    """A village's published affairs; an unknown code, or a unit that is not a village, is a 404."""
    page = selectors.village_page(code) if len(code) <= CODE_MAX_LENGTH else None
    if page is None:
        return _not_found(request)
    return render(request, "collective_economy/public/village.html", {"page": page})


urlpatterns = [
    path("", index, name="index"),
    path("<slug:code>/", village, name="village"),
]

"""Calls a minute per caller, counted in the shared cache: the one copy that Open311 and the public pages use.

A caller is whatever the counter's name says (an Open311 client's key, an address). The window is
opened by the caller's first call and lasts a minute: windows aligned to the clock would let a
burst straddle two minutes. The count lives in the Django cache (locmem in development, Redis in
production, so every worker process shares it).

A cache that cannot be reached lets the call through, logged: the limit guards the portal, and an
outage of the cache must not stop the pages and the API it guards.
"""

import logging

from axes.helpers import get_client_ip_address
from django.core.cache import cache as default_cache

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 60


def client_address(request) -> str:
    """The caller's address as the login lockout (django-axes) takes it, behind the same proxies."""
    return get_client_ip_address(request) or "unknown"


def within_limit(counter: str, limit: int, *, cache=None) -> bool:
    """Count a call in ``counter``'s one-minute window: True while the window holds at most ``limit`` calls.

    ``cache`` is the cache to count in (the default cache unless given). ``incr`` keeps the
    counter's expiry on locmem and Redis, so the window is the first call's minute.
    """
    cache = default_cache if cache is None else cache
    try:
        cache.add(counter, 0, timeout=WINDOW_SECONDS)
        try:
            calls = cache.incr(counter)
        except ValueError:  # expired between add and incr
            cache.set(counter, 1, timeout=WINDOW_SECONDS)
            calls = 1
    except Exception:  # any backend's error (connection refused, timeout…): let the call through
        logger.warning("%s rate limit skipped: the cache is unavailable", counter.split(":", 1)[0], exc_info=True)
        return True
    return calls <= limit

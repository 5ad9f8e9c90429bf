"""The portal's routes as the resolver sees them, for the tests that walk every page."""

from django.urls import URLPattern, URLResolver


def walk(patterns, prefix: str = "", namespace: tuple = ()):
    """(route as written, URL name with its namespaces, pattern) of every view the resolver reaches."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = (*namespace, pattern.namespace) if pattern.namespace else namespace
            yield from walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), ":".join((*namespace, pattern.name or "")), pattern

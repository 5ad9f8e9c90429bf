"""The bases every app builds on, one copy each: ``views`` (scoped list and detail pages,
export, htmx and ``next`` helpers), ``forms`` (the scoped filter bar, the portal form mixin,
widgets), ``admin`` (scope, unit filters, writes through services, personal data), ``api``
(scoped viewsets and fields, the router) and ``context_processors`` (the top bar).
"""

"""A registry that apps fill from a module of their own, found on first use (as admin.py is).

Rosters (``rosters.py``) and indicators (``indicators.py``) register this way, so
``governance`` never imports the apps above it.
"""

import threading

from django.utils.module_loading import autodiscover_modules


class Registry:
    """Items by key; the apps' ``module_name`` modules (and ``core``, if given) are imported once."""

    def __init__(self, module_name: str, core: str | None = None):
        self.module_name = module_name
        self.core = core
        self._items: dict = {}
        self._discovered = False
        self._lock = threading.Lock()

    def add(self, key: str, item):
        self._items[key] = item
        return item

    def remove(self, key: str) -> None:
        self._items.pop(key, None)

    def _discover(self) -> None:
        if self._discovered:
            return
        with self._lock:
            if not self._discovered:
                if self.core:
                    __import__(self.core)
                autodiscover_modules(self.module_name)
                self._discovered = True

    def get(self, key: str):
        """The item, or KeyError."""
        self._discover()
        return self._items[key]

    def all(self) -> list:
        self._discover()
        return list(self._items.values())

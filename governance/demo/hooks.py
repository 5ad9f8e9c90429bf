"""Demo data of the apps above governance (rosters, ledgers...), plugged in without naming them.

An app with demo data puts a ``demo`` module (or package) next to its models that calls ``register()``
at import time with two functions:

- ``seed(ctx)``: write the app's rows for the plan in ``ctx`` (a ``DemoContext``), after the
  org tree, households, residents and tags are in, inside the seed's transaction;
- ``reset()``: delete every row of the app's demo models (``seed_demo --reset`` calls it
  before the org chain is wiped),

and the models it writes (their tables are loaded like the households: on PostgreSQL the
secondary indexes and foreign keys are dropped for the load and rebuilt once at the end;
their id sequences are moved past the explicit ids afterwards).

``seed_demo`` imports every installed app's ``demo`` module (``autodiscover_modules``) and
runs the seeds in INSTALLED_APPS order, the resets in the reverse order: an app is listed
after the apps it builds on, as its imports go.
"""

import datetime
import random
import time
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.apps import apps
from django.db import connection
from django.db.models import Max, Model
from django.utils.module_loading import autodiscover_modules

from governance.demo.dates import demo_now
from governance.demo.plan import Plan, Unit


@dataclass(frozen=True)
class Contributor:
    app_label: str
    seed: Callable[["DemoContext"], None]
    reset: Callable[[], None]
    models: tuple[type[Model], ...]


_registry: dict[str, Contributor] = {}


def register(*, seed: Callable[["DemoContext"], None], reset: Callable[[], None], models: Iterable[type[Model]]):
    """Called by an app's demo module at import time; registering twice replaces."""
    config = apps.get_containing_app_config(seed.__module__)
    if config is None:
        raise ValueError(f"{seed.__module__} is not part of an installed app")
    _registry[config.label] = Contributor(config.label, seed, reset, tuple(models))


def contributors() -> list[Contributor]:
    """Every installed app's demo contributor, in INSTALLED_APPS order."""
    autodiscover_modules("demo")
    order = {config.label: i for i, config in enumerate(apps.get_app_configs())}
    return sorted(
        (c for c in _registry.values() if c.app_label in order), key=lambda c: order[c.app_label]
    )


@dataclass
class DemoContext:
    """What an app's demo seed gets: the plan, seeded randomness, a bulk writer, timing.

    Rows go in through ``write(model, columns, rows)``, the same path as the households
    (COPY from a writer thread on PostgreSQL, one prepared ``executemany`` INSERT elsewhere),
    with explicit ids (``next_id``). Values are plain: ints, strings, ``None``, booleans,
    ``str(date)``/``str(time)``/``str(decimal)`` and ``ctx.datetime(aware_datetime)``; no tab,
    newline or backslash in strings. While rows may still be on their way, the database
    connection belongs to the writer: read through ``query()``/``cursor()``, which hand it
    back first (``flush()``); ``seed_demo`` also installs ``guard`` so that any other query
    does the same.
    """

    plan: Plan
    sink_factory: Callable[[], object]
    on_rows: Callable[[type[Model], int], None]
    on_step: Callable[[str, float], None]
    as_of: datetime.date  # the demo's last day (``governance.demo.dates``): dates count back from it
    shared: dict = field(default_factory=dict)  # for an app to leave things for the apps after it
    _sink: object | None = None

    # --- what to build ------------------------------------------------------------------
    @property
    def seed(self) -> int:
        return self.plan.seed

    @property
    def scale(self) -> str:
        return self.plan.scale.name

    @property
    def now(self) -> datetime.datetime:
        """The demo's "now": the end of the working day of ``as_of``, local time."""
        return demo_now(self.as_of)

    def rng(self, *parts) -> random.Random:
        """A Random seeded by the demo seed and ``parts`` (e.g. an app name and a unit code)."""
        return random.Random("/".join(["yiwang-demo", str(self.plan.seed), *map(str, parts)]))

    def units(self, level: str) -> list[Unit]:
        """Planned units of one level, in tree order, with their database ids (``unit.pk``)."""
        return [u for u in self.plan.units if u.level == level]

    @staticmethod
    def household_ids(leaf: Unit) -> range:
        """Ids of the households of a lowest unit: consecutive, in the order of their numbers."""
        return range(leaf.first_household_id, leaf.first_household_id + leaf.households)

    # --- writing ------------------------------------------------------------------------
    def next_id(self, model: type[Model]) -> int:
        """The first free primary key of ``model`` (rows written so far included)."""
        self.flush()
        return (model._base_manager.aggregate(top=Max("pk"))["top"] or 0) + 1

    @staticmethod
    def datetime(value: datetime.datetime | None):
        """An aware datetime as the writer takes it (ISO text for COPY, the backend's form otherwise)."""
        if value is None or connection.vendor == "postgresql":
            return value and value.isoformat()
        if connection.timezone is not None:  # naive, in the connection's time zone, as Django stores it
            value = value.astimezone(connection.timezone).replace(tzinfo=None)
        return connection.ops.adapt_datetimefield_value(value)

    def write(self, model: type[Model], columns: tuple[str, ...], rows: list[tuple]) -> None:
        if not rows:
            return
        if self._sink is None:
            self._sink = self.sink_factory()
        self._sink.write(model._meta.db_table, columns, rows)
        self.on_rows(model, len(rows))

    def guard(self, execute, sql, params, many, context):
        """A Django execute wrapper: a query while rows are on their way waits for them first
        (the COPY writer thread owns the connection until then)."""
        if self._sink is not None and getattr(self._sink, "exclusive", False):
            self.flush()
        return execute(sql, params, many, context)

    def flush(self) -> None:
        """Wait until every row written so far is in the database."""
        if self._sink is not None:
            sink, self._sink = self._sink, None
            sink.close()

    def query(self, queryset) -> list:
        """``list(queryset)``, once the rows written so far are in."""
        self.flush()
        return list(queryset)

    def cursor(self):
        self.flush()
        return connection.cursor()

    @contextmanager
    def step(self, name: str):
        """Time a step; it shows in ``seed_demo -v 2`` and in the benchmark's steps."""
        started = time.monotonic()
        yield
        self.flush()
        self.on_step(name, time.monotonic() - started)

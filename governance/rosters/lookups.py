"""Bulk lookups by key for the roster engine: one query per chunk of keys, however many rows a file has."""

import datetime
import re

from django.db import connection, models


def _query_chunk() -> int:
    # SQLite allows 999 parameters per statement in old builds; PostgreSQL takes long IN lists.
    return 50_000 if connection.vendor == "postgresql" else 900


def chunked(items: list, size: int | None = None):
    size = size or _query_chunk()
    for start in range(0, len(items), size):
        yield items[start : start + size]


@models.Field.register_lookup
class _AnyOf(models.Lookup):
    """``path__roster_any=[...]``: ``= ANY(array)`` on PostgreSQL, one parameter however many values.

    Django's ``__in`` binds and prepares every value separately (about 10 µs each here), which
    alone would cost a second for the 100,000 keys of a large file.
    """

    lookup_name = "roster_any"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        # One array literal ('{...}'::type[]): PostgreSQL parses it far faster than the
        # ARRAY[...] expression psycopg2 would build from a list of 50,000 values.
        db_type = self.lhs.output_field.cast_db_type(connection)
        return f"{lhs} = ANY(%s::{db_type}[])", [*lhs_params, array_literal(self.rhs.values)]


class _Keys:
    """The values of a ``roster_any`` lookup, wrapped so that Django does not walk the list value by value."""

    __slots__ = ("values",)

    def __init__(self, values):
        self.values = values


_PLAIN_ELEMENT = re.compile(r"[0-9A-Za-z_.:+-]+")


def array_literal(values) -> str:
    parts = []
    plain = _PLAIN_ELEMENT.fullmatch
    for value in values:
        if type(value) is int:
            parts.append(str(value))
            continue
        text = value.isoformat() if isinstance(value, datetime.date | datetime.time) else str(value)
        if plain(text) is None or text.upper() == "NULL":
            text = '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
        parts.append(text)
    return "{" + ",".join(parts) + "}"


# Related fields look lookups up in their own class hierarchy only.
models.ForeignObject.register_lookup(_AnyOf)


def filter_in(queryset, path: str, values: list):
    """``queryset`` limited to rows whose ``path`` is one of ``values`` (one chunk of keys)."""
    if connection.vendor == "postgresql":
        return queryset.filter(**{f"{path}__roster_any": _Keys(list(values))})
    return queryset.filter(**{f"{path}__in": values})

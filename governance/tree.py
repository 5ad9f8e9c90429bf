"""Writing the portal's MPTT trees safely: the writer lock, and renumbering a whole tree.

Below the models (``TreeNode.save()`` takes the lock), so it names no model: callers pass the
lock key of their tree and the model to renumber.

Every change of a tree goes through ``tree_write_lock``: django-mptt computes lft/rght and
new tree ids by reading then writing, so two concurrent inserts or moves can give two roots
the same tree_id or overlapping ranges. On PostgreSQL a transaction-level advisory lock
serialises tree writers across processes; on SQLite the database already allows one writer,
and a process lock keeps threads in order.
"""

import threading
from collections import defaultdict
from contextlib import contextmanager

from django.db import connection, transaction

# An arbitrary constant naming the OrgUnit tree among advisory locks (other trees name their own).
ORG_TREE_LOCK = 7_254_001
_local_lock = threading.RLock()
# Rows per UPDATE when a tree is renumbered.
TREE_BATCH_SIZE = 1000


@contextmanager
def tree_write_lock(key: int = ORG_TREE_LOCK):
    """Hold the writer lock of one tree (the OrgUnit tree by default) for the current transaction."""
    with _local_lock, transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # Re-entrant within a session; released at commit or rollback.
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])
        yield


def tree_renumber(model) -> int:
    """Number a whole tree (OrgUnit, PartyOrganization) from its parent links; returns the rows changed.

    The same numbering as ``model.objects.rebuild()`` (roots and siblings in the tree's
    ``order_insertion_by`` order, tree ids from 1): django-mptt's rebuild writes every node with ``bulk_update``, whose
    CASE expressions take over a minute for a province; this writes only the rows whose
    numbers change, with plain UPDATEs sent by ``executemany``. Call it inside
    ``tree_write_lock()``.
    """
    children: dict[int, list[int]] = defaultdict(list)
    roots: list[int] = []
    current: dict[int, tuple[int, int, int, int]] = {}
    order = [*model._mptt_meta.order_insertion_by, "pk"]
    rows = model.objects.order_by(*order).values_list("pk", "parent_id", "lft", "rght", "tree_id", "mptt_level")
    for pk, parent_id, lft, rght, tree_id, depth in rows.iterator(chunk_size=5000):
        current[pk] = (lft, rght, tree_id, depth)
        (children[parent_id] if parent_id is not None else roots).append(pk)

    changed: list[tuple[int, int, int, int, int]] = []

    def number(pk: int, left: int, tree_id: int, depth: int) -> int:
        right = left + 1
        for child in children.get(pk, ()):
            right = number(child, right, tree_id, depth + 1) + 1
        if current[pk] != (left, right, tree_id, depth):
            changed.append((left, right, tree_id, depth, pk))
        return right

    for tree_id, root in enumerate(roots, start=1):
        number(root, 1, tree_id, 0)

    meta = model._meta
    quote = connection.ops.quote_name
    table, pk = quote(meta.db_table), quote(meta.pk.column)
    columns = [quote(meta.get_field(name).column) for name in ("lft", "rght", "tree_id", "mptt_level")]
    with connection.cursor() as cursor:
        for start in range(0, len(changed), TREE_BATCH_SIZE):
            batch = changed[start : start + TREE_BATCH_SIZE]
            if connection.vendor == "postgresql":
                # executemany costs a round trip per row there; one UPDATE joins a VALUES list.
                values = ", ".join(["(%s, %s, %s, %s, %s)"] * len(batch))
                sets = ", ".join(f"{column} = v.c{i}" for i, column in enumerate(columns))
                cursor.execute(
                    f"UPDATE {table} SET {sets} FROM (VALUES {values}) AS v(c0, c1, c2, c3, id) "
                    f"WHERE {table}.{pk} = v.id",
                    [value for row in batch for value in row],
                )
            else:
                sets = ", ".join(f"{column} = %s" for column in columns)
                cursor.executemany(f"UPDATE {table} SET {sets} WHERE {pk} = %s", batch)
    return len(changed)

"""Writes to the org chain that carry a business rule.

Every change of the OrgUnit tree goes through ``tree_write_lock``: django-mptt computes
lft/rght and new tree ids by reading then writing, so two concurrent inserts or moves can
give two roots the same tree_id or overlapping ranges. On PostgreSQL a transaction-level
advisory lock serialises tree writers across processes; on SQLite the database already
allows one writer, and a process lock keeps threads in order.
"""

import threading
from collections import defaultdict
from contextlib import contextmanager

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from governance.models import Household, Level, Notification, OrgUnit, Resident

# An arbitrary constant naming "the OrgUnit tree" among advisory locks.
TREE_LOCK_KEY = OrgUnit.tree_lock_key
_local_lock = threading.RLock()
# Rows per UPDATE when a tree is renumbered.
TREE_BATCH_SIZE = 1000


@contextmanager
def tree_write_lock(key: int = TREE_LOCK_KEY):
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


def orgunit_create(
    *,
    code: str,
    name: str,
    level: str,
    kind: str,
    parent: OrgUnit | None = None,
    short_name: str = "",
    is_active: bool = True,
    latitude=None,
    longitude=None,
) -> OrgUnit:
    with tree_write_lock():
        if parent is not None:
            # The parent's lft/rght may have moved since the caller loaded it.
            parent = OrgUnit.objects.get(pk=parent.pk)
        unit = OrgUnit(
            code=code,
            name=name,
            short_name=short_name,
            level=level,
            kind=kind,
            parent=parent,
            is_active=is_active,
            latitude=latitude,
            longitude=longitude,
        )
        unit.full_clean()
        unit.save()
        return unit


def orgunit_update(*, unit: OrgUnit, **fields) -> OrgUnit:
    """Change a unit's fields, moving it when ``parent`` changes; validates like a create."""
    with tree_write_lock():
        fresh = OrgUnit.objects.select_for_update().get(pk=unit.pk)
        old_code = fresh.code
        for name, value in fields.items():
            setattr(fresh, name, value)
        if "parent" in fields and fields["parent"] is not None:
            fresh.parent = OrgUnit.objects.get(pk=fields["parent"].pk)
        fresh.full_clean()
        fresh.save()
        if fresh.code != old_code and fresh.level in (Level.GRID, Level.MICRO_GRID):
            _recode_descendants(fresh, old_code)
        return fresh


def _recode_descendants(unit: OrgUnit, old_code: str) -> None:
    """Micro-grid codes extend their grid's code, so they follow it when it is renumbered."""
    descendants = list(unit.get_descendants().filter(code__startswith=old_code))
    for child in descendants:
        child.code = unit.code + child.code[len(old_code) :]
    OrgUnit.objects.bulk_update(descendants, ["code"])


def orgunit_move(*, unit: OrgUnit, new_parent: OrgUnit, new_code: str | None = None) -> OrgUnit:
    fields = {"parent": new_parent}
    if new_code:
        fields["code"] = new_code
    return orgunit_update(unit=unit, **fields)


def orgunit_delete(*, unit: OrgUnit) -> None:
    with tree_write_lock():
        fresh = OrgUnit.objects.get(pk=unit.pk)
        if fresh.get_children().exists() or fresh.households.exists() or fresh.staff.exists():
            raise ValidationError(
                gettext("A unit with sub-units, households or users cannot be deleted.")
            )
        fresh.delete()


def household_create(*, number: str, address: str, grid: OrgUnit, tags=(), is_active: bool = True) -> Household:
    with transaction.atomic():
        household = Household(number=number, address=address, grid=grid, is_active=is_active)
        household.full_clean()
        household.save()
        if tags:
            household.tags.set(tags)
        return household


def household_update(*, household: Household, tags=None, **fields) -> Household:
    """Change a household's fields (and tags when given), validated like a create."""
    return _update_with_tags(household, tags, fields)


def resident_create(
    *,
    household: Household,
    name: str,
    id_number: str,
    phone: str = "",
    relation: str = "head",
    tags=(),
    is_active: bool = True,
) -> Resident:
    with transaction.atomic():
        resident = Resident(
            household=household, name=name, id_number=id_number, phone=phone, relation=relation, is_active=is_active
        )
        resident.full_clean()
        resident.save()
        if tags:
            resident.tags.set(tags)
        return resident


def resident_update(*, resident: Resident, tags=None, **fields) -> Resident:
    """Change a resident's fields (and tags when given); birth date and sex follow the ID number."""
    return _update_with_tags(resident, tags, fields)


def _update_with_tags(instance, tags, fields):
    with transaction.atomic():
        for name, value in fields.items():
            setattr(instance, name, value)
        instance.full_clean()
        instance.save()
        if tags is not None:
            instance.tags.set(tags)
        return instance


# --- Notifications ------------------------------------------------------------------------


def notification_send(*, users, text: str, url: str = "", key: str = "") -> int:
    """One notification per user (each user once per ``key``, however often this is called)."""
    text = str(text)[:300]
    rows = [Notification(user=user, text=text, url=url, key=key) for user in {user.pk: user for user in users}.values()]
    if not rows:
        return 0
    before = Notification.objects.filter(key=key).count() if key else 0
    Notification.objects.bulk_create(rows, ignore_conflicts=bool(key))
    return (Notification.objects.filter(key=key).count() - before) if key else len(rows)


def notification_mark_read(*, user, ids=None) -> int:
    """Mark the user's notifications read (``ids`` of them, or all); returns how many changed."""
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=ids)
    return unread.update(read_at=timezone.now())


# --- Month approval -------------------------------------------------------------------------

APPROVAL_NOT_ALLOWED = _("Only an administrator or a county official may approve or re-open a month.")
APPROVAL_MONTH_NOT_OVER = _("%(month)s is not over yet: a month can be approved only after it ends.")
APPROVAL_NOT_COMPUTED = _("Compute %(month)s completely before approving it (the last run is %(status)s).")
APPROVAL_ALREADY = _("%(month)s is already approved.")
APPROVAL_NOT_LOCKED = _("%(month)s is not approved: there is nothing to re-open.")


def can_approve_months(user) -> bool:
    """Administrators and county officials approve and re-open months."""
    from governance.models import Role

    return user.is_superuser or user.role in (Role.ADMIN, Role.COUNTY)


def can_start_rollup(user) -> bool:
    """Administrators start a month's computation by hand."""
    from governance.models import Role

    return user.is_superuser or user.role == Role.ADMIN


def _approver(user) -> None:
    if not can_approve_months(user):
        raise ValidationError(APPROVAL_NOT_ALLOWED, code="not_allowed")


def month_approve(*, period, user):
    """Lock a month's indicators after review: scheduled runs no longer recompute it."""
    from governance.indicators import month_start
    from governance.models import MonthApproval, RollupRun, RollupStatus

    _approver(user)
    period = month_start(period)
    month = f"{period:%Y-%m}"
    if period >= month_start(timezone.localdate()):
        raise ValidationError(APPROVAL_MONTH_NOT_OVER, code="month_not_over", params={"month": month})
    # The month's last run of the whole tree: every unit, or the top unit an administrator starts from.
    whole = Q(org_unit__isnull=True) | Q(org_unit__parent__isnull=True)
    last = RollupRun.objects.filter(whole, period=period).order_by("-started_at", "-id").first()
    if last is None or last.status != RollupStatus.COMPLETE:
        status = last.get_status_display() if last else gettext("missing")
        raise ValidationError(APPROVAL_NOT_COMPUTED, code="not_computed", params={"month": month, "status": status})
    with transaction.atomic():
        approval, _created = MonthApproval.objects.select_for_update().get_or_create(period=period,
                                                                                     defaults={"locked": False})
        if approval.locked:
            raise ValidationError(APPROVAL_ALREADY, code="already_approved", params={"month": month})
        approval.locked, approval.approved_by, approval.approved_at = True, user, timezone.now()
        approval.changed_at = approval.checked_at = None
        approval.full_clean()
        approval.save()
        return approval


def month_reopen(*, period, user):
    """Unlock an approved month so that it can be corrected and computed again."""
    from governance.indicators import month_start
    from governance.models import MonthApproval

    _approver(user)
    period = month_start(period)
    with transaction.atomic():
        approval = MonthApproval.objects.select_for_update().filter(period=period, locked=True).first()
        if approval is None:
            raise ValidationError(APPROVAL_NOT_LOCKED, code="not_locked", params={"month": f"{period:%Y-%m}"})
        approval.locked, approval.reopened_by, approval.reopened_at = False, user, timezone.now()
        approval.save(update_fields=["locked", "reopened_by", "reopened_at"])
        return approval


def month_check_approval(*, period):
    """Record on the approval whether the month's values changed since it was approved (nightly)."""
    from governance.indicators import approval_changes, month_start
    from governance.models import MonthApproval

    period = month_start(period)
    changed = approval_changes(period)
    now = timezone.now()
    with transaction.atomic():
        approval = MonthApproval.objects.select_for_update().get(period=period)
        approval.checked_at = now
        if not changed:
            approval.changed_at = None
        elif approval.changed_at is None:
            approval.changed_at = now
        approval.save(update_fields=["checked_at", "changed_at"])
        return approval


# --- Rollup runs started by hand ------------------------------------------------------------

ROLLUP_NOT_ALLOWED = _("Only an administrator may start a computation of the indicators.")
ROLLUP_NOT_BEGUN = _("%(month)s has not begun: there is nothing to compute yet.")
ROLLUP_LOCKED = _("%(month)s is approved and locked: re-open it before computing it again.")
ROLLUP_NOT_QUEUED = _("The task queue did not answer, so the computation of %(month)s did not start. "
                      "Try again in a few minutes; if it keeps failing, tell the system administrator.")


def rollup_start(*, period, user):
    """Start a run of the month's indicators for the user's area; the RollupRun (maybe one already running).

    An administrator who sees every unit computes them all, county and city levels included;
    one with a home unit computes that unit's subtree.
    """
    from governance.indicators import month_start, period_is_locked
    from governance.models import RollupRun
    from governance.tasks import RollupNotQueued, start_rollup

    if not can_start_rollup(user):
        raise ValidationError(ROLLUP_NOT_ALLOWED, code="not_allowed")
    period = month_start(period)
    params = {"month": f"{period:%Y-%m}"}
    if period > month_start(timezone.localdate()):
        raise ValidationError(ROLLUP_NOT_BEGUN, code="not_begun", params=params)
    if period_is_locked(period):
        raise ValidationError(ROLLUP_LOCKED, code="locked", params=params)
    try:
        run_id = start_rollup(period, user.home_unit)
    except RollupNotQueued as exc:
        raise ValidationError(ROLLUP_NOT_QUEUED, code="not_queued", params=params) from exc
    if run_id is None:  # approved between the check and the start
        raise ValidationError(ROLLUP_LOCKED, code="locked", params=params)
    return RollupRun.objects.select_related("org_unit").get(pk=run_id)

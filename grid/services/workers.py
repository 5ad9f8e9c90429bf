"""Writes to the grid rosters: grid workers, their A/B post pairs, and household liaisons.

Decisions the domain leaves open, made here once:

- **Current** means "no end date" (``GridWorker.is_current``). An end date therefore cannot
  lie in the future: a worker who leaves next month is ended next month.
- **互为顶岗 is mutual.** ``gridworker_set_backup(worker=a, backup=b, post="A")`` makes b the
  backup of a *and* a the backup of b, and gives the pair opposite posts (a the A post, b the
  B post). Whoever was paired with a or b before loses his backup link (he keeps his post and
  needs a new backup). Clearing a's backup clears b's link to a as well.
- **Leaving the post** (``gridworker_end``) dissolves the worker's pair (his partner keeps his
  post and needs a new backup) and releases the households he looked after as a liaison:
  a household has at most one liaison, and one who has left must not block the next.
- **A liaison looks after households of his own standard grid** (the grid he serves, or the
  grid above the micro-grid he serves): liaisons are neighbours, and the grid worker who
  supervises them answers for one grid.
- The liaison limit (``settings.LIAISON_MAX_HOUSEHOLDS``) is counted while the liaison's row
  is locked (``select_for_update``), so two assignments running at once queue on that row
  and the second one counts the first: together they cannot exceed the limit.

The messages are module constants (lazy, English msgids) so that the Excel import reports the
same sentence for the same broken rule.
"""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from governance.models import Household, OrgUnit, Resident
from governance.validators import normalize_id_number
from grid.models import GridWorker, LiaisonHousehold, Post, WorkerType, grid_id_of
from partybuild.models import PartyMember

LIAISON_LIMIT_MESSAGE = _("A household liaison looks after at most %(limit)d households.")
HOUSEHOLD_HAS_LIAISON_MESSAGE = _("This household already has a liaison: %(liaison)s.")
NOT_A_LIAISON_MESSAGE = _("Only a household liaison looks after households.")
LIAISON_LEFT_MESSAGE = _("This liaison has left the post.")
LIAISON_OTHER_GRID_MESSAGE = _("The household lives outside the liaison's grid.")
HOUSEHOLD_INACTIVE_MESSAGE = _("This household is no longer active.")
LIAISON_TYPE_KEPT_MESSAGE = _("This liaison still looks after households; unassign them first.")
BACKUP_LEFT_MESSAGE = _("The backup worker has left the post.")
LEFT_WITH_BACKUP_MESSAGE = _("A worker who has left cannot have a backup.")
ALREADY_LEFT_MESSAGE = _("This worker left the post on %(date)s.")
FUTURE_END_MESSAGE = _("The end date cannot be in the future.")
PARTY_MEMBER_OTHER_PERSON_MESSAGE = _("This party member record belongs to someone else (the ID numbers differ).")
RESIDENT_OTHER_PERSON_MESSAGE = _("This resident has another ID number.")

# The fields gridworker_create takes and gridworker_update may change.
WORKER_FIELDS = (
    "name",
    "id_number",
    "phone",
    "worker_type",
    "unit",
    "start_date",
    "end_date",
    "resident",
    "party_member",
    "is_party_member",
    "post",
    "backup",
)

OTHER_POST = {Post.A: Post.B, Post.B: Post.A}


# --- Grid workers -------------------------------------------------------------------------


def gridworker_create(
    *,
    name: str,
    id_number: str,
    phone: str,
    worker_type: str,
    unit: OrgUnit,
    start_date: datetime.date,
    resident: Resident | None = None,
    party_member: PartyMember | None = None,
    is_party_member: bool = False,
    post: str = "",
    backup: GridWorker | None = None,
    end_date: datetime.date | None = None,
) -> GridWorker:
    """Register a worker; with ``backup`` the two become a mutual A/B pair (see the module doc)."""
    with transaction.atomic():
        worker = GridWorker(
            name=name,
            id_number=id_number,
            phone=phone,
            worker_type=worker_type,
            unit=unit,
            start_date=start_date,
            end_date=end_date,
            resident=resident,
            party_member=party_member,
            is_party_member=is_party_member,
            post=post,
            backup=_locked(backup),
        )
        _validate_and_save(worker)
        if worker.backup_id:
            _pair_backup(worker, old_backup_id=None)
        return worker


def gridworker_update(*, worker: GridWorker, **fields) -> GridWorker:
    """Change a worker's fields, validated like a create.

    A new ``backup`` or ``post`` re-pairs the worker (and updates his partner); a first end
    date has the effects of ``gridworker_end``.
    """
    unknown = set(fields) - set(WORKER_FIELDS)
    if unknown:
        raise TypeError(f"gridworker_update() got unexpected fields: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        backup = fields.get("backup")
        # Both rows locked in one statement, in id order: two pairings of the same two workers queue.
        locked = _lock_workers(worker.pk, backup.pk if backup is not None else None)
        fresh = locked[worker.pk]
        old_backup_id, old_post, was_current = fresh.backup_id, fresh.post, fresh.is_current
        if backup is not None:
            fields["backup"] = locked[backup.pk]
        for name, value in fields.items():
            setattr(fresh, name, value)
        if was_current and not fresh.is_current:
            fresh.backup = None  # leaving dissolves the pair
        _validate_and_save(fresh)
        if was_current and not fresh.is_current:
            _release(fresh)
        elif fresh.backup_id != old_backup_id or (fresh.backup_id and fresh.post != old_post):
            _pair_backup(fresh, old_backup_id=old_backup_id)
        return fresh


def gridworker_end(*, worker: GridWorker, end_date: datetime.date) -> GridWorker:
    """The worker leaves his post: his A/B pair is dissolved, his liaison households released."""
    with transaction.atomic():
        fresh = GridWorker.objects.select_for_update().get(pk=worker.pk)
        if not fresh.is_current:
            raise ValidationError(
                {"end_date": ValidationError(ALREADY_LEFT_MESSAGE, params={"date": fresh.end_date.isoformat()})}
            )
        fresh.end_date = end_date
        fresh.backup = None
        _validate_and_save(fresh)
        _release(fresh)
        return fresh


def gridworker_set_backup(*, worker: GridWorker, backup: GridWorker | None, post: str | None = None) -> GridWorker:
    """Pair ``worker`` (on ``post``) with ``backup`` (on the other post) as mutual backups (互为顶岗).

    ``post=None`` keeps the worker's post. ``backup=None`` dissolves his pair: both keep their posts.
    """
    fields = {"backup": backup} if post is None else {"backup": backup, "post": post}
    return gridworker_update(worker=worker, **fields)


def gridworker_validate(*, worker: GridWorker) -> None:
    """The rules beyond ``GridWorker.clean`` that a service enforces; raises ValidationError by field.

    Public so that a form (the admin's) can show them on its fields before it saves.
    """
    errors: dict[str, list] = {}
    id_number = normalize_id_number(worker.id_number or "")
    if worker.party_member_id and worker.party_member.resident.id_number != id_number:
        errors.setdefault("party_member", []).append(PARTY_MEMBER_OTHER_PERSON_MESSAGE)
    if worker.resident_id and worker.resident.id_number != id_number:
        errors.setdefault("resident", []).append(RESIDENT_OTHER_PERSON_MESSAGE)
    if worker.end_date and worker.end_date > timezone.localdate():
        errors.setdefault("end_date", []).append(FUTURE_END_MESSAGE)
    if worker.backup_id:
        if worker.end_date:
            errors.setdefault("backup", []).append(LEFT_WITH_BACKUP_MESSAGE)
        elif not worker.backup.is_current:
            errors.setdefault("backup", []).append(BACKUP_LEFT_MESSAGE)
    if (
        worker.pk
        and worker.worker_type != WorkerType.LIAISON
        and LiaisonHousehold.objects.filter(liaison_id=worker.pk).exists()
    ):
        errors.setdefault("worker_type", []).append(LIAISON_TYPE_KEPT_MESSAGE)
    if errors:
        raise ValidationError(errors)


def _validate_and_save(worker: GridWorker) -> None:
    """Both rule sets, reported together, then the save."""
    errors: dict[str, list] = {}
    for check in (worker.full_clean, lambda: gridworker_validate(worker=worker)):
        try:
            check()
        except ValidationError as exc:
            for field, messages in exc.error_dict.items():
                errors.setdefault(field, []).extend(messages)
    unit_errors = errors.get("unit", [])
    if any(error.code != "invalid" for error in unit_errors):
        # The rule's sentence ("must serve a micro-grid") says more than the FK's "not a valid choice".
        errors["unit"] = [error for error in unit_errors if error.code != "invalid"]
    if errors:
        raise ValidationError(errors)
    worker.save()


def _locked(worker: GridWorker | None) -> GridWorker | None:
    """A fresh, row-locked copy of ``worker``: his end date or partner may have changed meanwhile."""
    if worker is None:
        return None
    return _lock_workers(worker.pk)[worker.pk]


def _lock_workers(*pks: int | None) -> dict[int, GridWorker]:
    wanted = {pk for pk in pks if pk}
    # of=self: FOR UPDATE would otherwise lock the joined org units too, and block tree writes.
    rows = (
        GridWorker.objects.select_for_update(of=("self",)).select_related("unit").filter(pk__in=wanted).order_by("pk")
    )
    found = {row.pk: row for row in rows}
    missing = wanted - set(found)
    if missing:
        raise GridWorker.DoesNotExist(f"No grid worker with id {min(missing)}.")
    return found


def _pair_backup(worker: GridWorker, *, old_backup_id: int | None) -> None:
    """Make the pairing mutual after ``worker`` got a new backup (or none, or a new post).

    Locks every row involved in one statement ordered by id, so two re-pairings that touch
    the same workers queue instead of deadlocking.
    """
    ids = {pk for pk in (worker.pk, old_backup_id, worker.backup_id) if pk}
    involved = {
        row.pk: row
        for row in GridWorker.objects.select_for_update(of=("self",))
        .filter(Q(pk__in=ids) | Q(backup_id__in=ids))
        .select_related("unit")
        .order_by("pk")
    }
    pair = {worker.pk, worker.backup_id}
    # The old partner, and the new partner's old partner, lose their link (and keep their posts).
    dropped = [row.pk for row in involved.values() if row.pk not in pair and row.backup_id and row.backup_id in pair]
    if dropped:
        GridWorker.objects.filter(pk__in=dropped).update(backup=None)
    if worker.backup_id:
        partner = involved[worker.backup_id]
        partner.backup = worker
        partner.post = OTHER_POST.get(worker.post, partner.post)
        partner.full_clean()
        partner.save(update_fields=["backup", "post"])


def _release(worker: GridWorker) -> None:
    """What leaving the post undoes: the partner's link back, the liaison households."""
    GridWorker.objects.filter(backup=worker).update(backup=None)
    LiaisonHousehold.objects.filter(liaison=worker).delete()


# --- Household liaisons -------------------------------------------------------------------


def liaison_validate(*, liaison: GridWorker, household: Household, replace: bool = False) -> LiaisonHousehold | None:
    """The rules of an assignment; raises ValidationError by field, returns the household's current link.

    Public so that a form can show the rules on its fields; ``liaison_assign`` calls it again
    with the liaison's row locked, which is what makes the limit hold under concurrency.
    """
    if liaison.worker_type != WorkerType.LIAISON:
        raise ValidationError({"liaison": NOT_A_LIAISON_MESSAGE})
    if not liaison.is_current:
        raise ValidationError({"liaison": LIAISON_LEFT_MESSAGE})
    if not household.is_active:
        raise ValidationError({"household": HOUSEHOLD_INACTIVE_MESSAGE})
    if grid_id_of(household.grid) != grid_id_of(liaison.unit):
        raise ValidationError({"household": LIAISON_OTHER_GRID_MESSAGE})
    existing = LiaisonHousehold.objects.select_related("liaison").filter(household_id=household.pk).first()
    if existing is not None and existing.liaison_id == liaison.pk:
        return existing
    if existing is not None and not replace:
        raise has_liaison_error(existing)
    limit = settings.LIAISON_MAX_HOUSEHOLDS
    if LiaisonHousehold.objects.filter(liaison_id=liaison.pk).count() >= limit:
        raise ValidationError({"liaison": ValidationError(LIAISON_LIMIT_MESSAGE, params={"limit": limit})})
    return existing


def liaison_assign(
    *,
    liaison: GridWorker,
    household: Household,
    since: datetime.date | None = None,
    replace: bool = False,
) -> LiaisonHousehold:
    """Put ``household`` in the care of ``liaison`` (from ``since``, default today).

    A household already with this liaison is left as it is (its ``since`` updated when given).
    One with another liaison is refused, or moved over with ``replace=True``.
    """
    with transaction.atomic():
        # The lock that makes the count in liaison_validate safe against concurrent assignments.
        liaison = _locked(liaison)
        household = Household.objects.select_related("grid").get(pk=household.pk)
        existing = liaison_validate(liaison=liaison, household=household, replace=replace)
        if existing is not None and existing.liaison_id == liaison.pk:
            if since is not None and since != existing.since:
                existing.since = since
                existing.save(update_fields=["since"])
            return existing

        link = existing or LiaisonHousehold(household=household)
        link.liaison = liaison
        link.since = since or timezone.localdate()
        link.full_clean(validate_unique=False)  # uniqueness: checked above, enforced by the database
        try:
            with transaction.atomic():
                link.save()
        except IntegrityError:
            # Another assignment of the same household committed between our check and our insert.
            winner = LiaisonHousehold.objects.select_related("liaison").filter(household=household).first()
            if winner is None:
                raise
            raise has_liaison_error(winner) from None
        return link


def has_liaison_error(link: LiaisonHousehold) -> ValidationError:
    """The refusal of another liaison for ``link``'s household, naming the one it has."""
    return ValidationError(
        {"household": ValidationError(HOUSEHOLD_HAS_LIAISON_MESSAGE, params={"liaison": link.liaison.name})}
    )


def liaison_unassign(*, household: Household) -> bool:
    """Release ``household`` from its liaison; False when it had none."""
    with transaction.atomic():
        deleted, _rows = LiaisonHousehold.objects.filter(household_id=household.pk).delete()
        return deleted > 0

"""Cases (事件/诉求) and their closed loop: report → accept → dispatch → take → work → resolve → verify → rate → close.

Every step is one function here, and the rule of who may take it is declared once, in
``RULES``: the web forms, the API and the detail page's list of allowed actions all read
it. A step locks the case's row, re-reads it, checks the state and the user, writes the
case and one ``CaseEvent``, and asks for the follow-up work (notifications) through the
outbox, which sends it only after the commit. A step that is not allowed, or that another
user took first, raises a ValidationError with a message for the user and changes nothing.

Who does what (the user's role and where his home unit sits):

- managers (administrator, county official, township staff) of the unit handling the
  case accept or reject it, dispatch it, and escalate it before dispatch;
- the assignee (or, when the case went to a unit without a person, any staff of that unit)
  takes it, starts work, resolves it, or escalates it when it is beyond his unit;
- managers of the dispatching unit (or above) verify the result or return it, record the
  reporter's rating, and close the case;
- a private matter (私事) is not dispatched: the accepting unit answers it with guidance
  (resolve straight from "accepted").

Triage (三事分流) limits where a case may be dispatched: a major matter to a township (or
the county), a minor one to a village/community or one of its grids.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from governance.models import Level, OrgUnit, User
from governance.outbox import enqueue
from governance.selectors import active_staff_exists
from grid.models import (
    MANAGER_ROLES,
    WORKING_STATES,
    Case,
    CaseAction,
    CaseAttachment,
    CaseCounter,
    CaseEvent,
    CaseState,
    Colour,
    ColourDeadline,
    Rating,
    Triage,
)
from grid.taxonomy import DEADLINES

DISPATCH_LEVELS = {
    Triage.MAJOR: (Level.COUNTY, Level.TOWNSHIP),
    Triage.MINOR: (Level.VILLAGE, Level.GRID, Level.MICRO_GRID),
}

WRONG_STATE = _("This case is now “%(current)s”: it cannot be %(action)s. Reload the page to see what changed.")
NOT_ALLOWED = _("This case cannot be %(action)s by you.")
GRID_OUT_OF_SCOPE = _("This grid is outside your area.")
UNIT_OUT_OF_SCOPE = _("This unit is outside your area.")
TRIAGE_REQUIRED = _("Sort the case first (major, minor or private matter).")
PRIVATE_NOT_DISPATCHED = _("A private matter is not dispatched: answer it with guidance (resolve it).")
WRONG_LEVEL = _("A %(triage)s goes to a unit of level %(levels)s.")
ASSIGNEE_ELSEWHERE = _("%(user)s does not work in %(unit)s.")
TEXT_REQUIRED = _("Say why.")
RESULT_REQUIRED = _("Describe the result.")
RATING_REQUIRED = _("Choose the reporter's rating.")
NO_PARENT = _("%(unit)s has no higher level to escalate to.")
NO_TOWNSHIP = _("This grid is not inside a township.")
NOBODY_THERE = _("%(unit)s has no active account: nobody there could take the case. Choose another unit.")


# --- Who may do what -----------------------------------------------------------------------


class _Ranges:
    """The nested-set ranges of the units one decision looks at, read fresh from the database
    (a unit held by a long request may be stale after the tree was renumbered, see scope.py),
    each unit once: deciding every step of a case takes one query."""

    def __init__(self, *units):
        self._known: dict[int, tuple[int, int, int]] = {}
        self.load(*units)

    def load(self, *units) -> None:
        ids = {getattr(unit, "pk", unit) for unit in units} - {None} - set(self._known)
        if ids:
            for pk, tree_id, lft, rght in OrgUnit.objects.filter(pk__in=ids).values_list("pk", "tree_id", "lft",
                                                                                          "rght"):
                self._known[pk] = (tree_id, lft, rght)

    def within(self, unit, root) -> bool:
        """Whether ``unit`` lies in ``root``'s subtree (units or ids; None is in nothing)."""
        unit, root = getattr(unit, "pk", unit), getattr(root, "pk", root)
        if unit is None or root is None:
            return False
        self.load(unit, root)
        inner, outer = self._known.get(unit), self._known.get(root)
        return bool(inner and outer and inner[0] == outer[0] and outer[1] <= inner[1] and inner[2] <= outer[2])


def _operator(user: User) -> bool:
    """The system operator (a superuser without a home unit) manages everything."""
    return user.is_superuser and user.home_unit_id is None


def _manages(user: User, unit, ranges: _Ranges) -> bool:
    """A manager whose home unit contains ``unit``."""
    return _operator(user) or (user.role in MANAGER_ROLES and ranges.within(unit, user.home_unit_id))


def _works_on(user: User, case: Case, ranges: _Ranges) -> bool:
    """The assignee, or staff of the unit the case was dispatched to when it has no assignee."""
    if case.assignee_id is not None:
        return case.assignee_id == user.pk
    return ranges.within(user.home_unit_id, case.handling_unit_id)


def _handles(user: User, case: Case, ranges: _Ranges) -> bool:
    return _manages(user, case.handling_unit_id, ranges)


def _checks(user: User, case: Case, ranges: _Ranges) -> bool:
    """Managers of the dispatching unit or above (of the handling unit for a private matter)."""
    return _manages(user, case.dispatcher_unit_id or case.handling_unit_id, ranges)


def _may_dispatch(user: User, case: Case, ranges: _Ranges) -> bool:
    return case.triage != Triage.PRIVATE and _handles(user, case, ranges)


def _may_recall(user: User, case: Case, ranges: _Ranges) -> bool:
    """Managers of the dispatching unit (or above), while nobody has taken the case yet."""
    return case.dispatcher_unit_id is not None and _manages(user, case.dispatcher_unit_id, ranges)


def _may_escalate(user: User, case: Case, ranges: _Ranges) -> bool:
    if case.state in (CaseState.REPORTED, CaseState.ACCEPTED):
        return _handles(user, case, ranges)
    return _works_on(user, case, ranges)


def _may_resolve(user: User, case: Case, ranges: _Ranges) -> bool:
    if case.state == CaseState.ACCEPTED:
        return case.triage == Triage.PRIVATE and _handles(user, case, ranges)
    return _works_on(user, case, ranges)


@dataclass(frozen=True)
class Rule:
    states: tuple[str, ...]
    allowed: Callable[[User, Case, _Ranges], bool]
    verb: str  # for "cannot be %(action)s" (past participle)


RULES: dict[str, Rule] = {
    CaseAction.ACCEPT: Rule((CaseState.REPORTED,), _handles, _("accepted")),
    CaseAction.REJECT: Rule((CaseState.REPORTED,), _handles, _("rejected")),
    CaseAction.DISPATCH: Rule((CaseState.ACCEPTED,), _may_dispatch, _("dispatched")),
    CaseAction.RECALL: Rule((CaseState.DISPATCHED,), _may_recall, _("recalled")),
    CaseAction.TAKE: Rule((CaseState.DISPATCHED,), _works_on, _("taken")),
    CaseAction.START: Rule((CaseState.TAKEN,), _works_on, _("started")),
    CaseAction.RESOLVE: Rule((CaseState.IN_PROGRESS, CaseState.ACCEPTED), _may_resolve, _("resolved")),
    CaseAction.VERIFY: Rule((CaseState.RESOLVED,), _checks, _("verified")),
    CaseAction.RETURN: Rule((CaseState.RESOLVED,), _checks, _("returned")),
    CaseAction.RATE: Rule((CaseState.VERIFIED,), _checks, _("rated")),
    CaseAction.CLOSE: Rule((CaseState.RATED,), _checks, _("closed")),
    CaseAction.ESCALATE: Rule(
        (CaseState.REPORTED, CaseState.ACCEPTED, CaseState.DISPATCHED, CaseState.TAKEN, CaseState.IN_PROGRESS),
        _may_escalate,
        _("escalated"),
    ),
}


def _ranges_for(case: Case, user: User) -> _Ranges:
    return _Ranges(user.home_unit_id, case.handling_unit_id, case.dispatcher_unit_id)


def case_allowed_actions(*, case: Case, user: User) -> list[str]:
    """The steps ``user`` may take on ``case`` now, in the order of the loop."""
    ranges = _ranges_for(case, user)
    return [action for action, rule in RULES.items() if case.state in rule.states and rule.allowed(user, case, ranges)]


def _locked(case: Case, user: User, action: str) -> Case:
    """The case's row, locked and re-read; refused unless ``user`` may take step ``action`` now."""
    rule = RULES[action]
    fresh = Case.objects.select_for_update(of=("self",)).select_related(
        "handling_unit", "dispatcher_unit", "grid"
    ).get(pk=case.pk)
    if fresh.state not in rule.states:
        raise ValidationError(
            WRONG_STATE, code="wrong_state",
            params={"current": CaseState(fresh.state).label, "action": rule.verb},
        )
    if not rule.allowed(user, fresh, _ranges_for(fresh, user)):
        raise ValidationError(NOT_ALLOWED, code="not_allowed", params={"action": rule.verb})
    return fresh


def _step(case: Case, user: User | None, action: str, to_state: str, *, comment: str = "", unit=None,
          at: datetime.datetime | None = None, **changes) -> CaseEvent:
    """Move the (locked) case to ``to_state``, record the event, ask for the follow-up work."""
    at = at or timezone.now()
    from_state = case.state
    case.state = to_state
    for name, value in changes.items():
        setattr(case, name, value)
    case.save()
    event = CaseEvent.objects.create(
        case=case, action=action, from_state=from_state, to_state=to_state, actor=user, unit=unit, at=at,
        comment=comment,
    )
    enqueue("grid.tasks.case_followup", event_id=event.pk)
    return event


def _invalid(field: str, message, **params) -> ValidationError:
    return ValidationError({field: ValidationError(message, params=params)})


def _required(value: str, field: str, message) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: message})
    return value


# --- Numbering -------------------------------------------------------------------------------


def township_of(unit: OrgUnit) -> OrgUnit:
    """The township ``unit`` lies in, read from the tree as it is now.

    The instance's own tree values may be stale (the tree was edited since it was loaded), so
    they are read in the same query rather than trusted.
    """
    if unit.level == Level.TOWNSHIP:
        return unit
    here = OrgUnit.objects.filter(pk=unit.pk)
    township = OrgUnit.objects.filter(
        level=Level.TOWNSHIP,
        tree_id=Subquery(here.values("tree_id")),
        lft__lt=Subquery(here.values("lft")),
        rght__gt=Subquery(here.values("rght")),
    ).first()
    if township is None:
        raise ValidationError({"grid": NO_TOWNSHIP})
    return township


def case_number_next(*, township: OrgUnit, when: datetime.datetime) -> str:
    """The next number of ``township`` for the month of ``when``: its code, the month, a sequence.

    The counter row is locked until the caller's transaction ends, so two cases created at
    once get consecutive numbers, and a rolled-back creation gives its number back (no gaps).
    """
    month = timezone.localtime(when).strftime("%Y%m")
    with transaction.atomic():
        try:
            with transaction.atomic():
                counter, _created = CaseCounter.objects.select_for_update().get_or_create(
                    township=township, month=month
                )
        except IntegrityError:  # created by a concurrent transaction since our look
            counter = CaseCounter.objects.select_for_update().get(township=township, month=month)
        counter.last += 1
        counter.save(update_fields=["last"])
    return f"{township.code[:9]}{month}{counter.last:05d}"


# --- Report --------------------------------------------------------------------------------


CASE_FIELDS = (
    "title", "description", "category", "source", "triage", "colour", "grid", "household", "address", "latitude",
    "longitude", "reporter", "reporter_name", "reporter_phone",
)


def case_create(*, user: User, token=None, attachments=(), reported_at: datetime.datetime | None = None,
                **fields) -> Case:
    """Report a case (上报) in a grid of the user's area. A form sent twice (same ``token``) creates one case."""
    unknown = set(fields) - set(CASE_FIELDS)
    if unknown:
        raise TypeError(f"unknown case fields: {sorted(unknown)}")
    if token is not None:
        existing = Case.objects.filter(token=token).first()
        if existing is not None:
            return existing
    grid = fields.get("grid")
    if grid is not None and not OrgUnit.objects.visible_to(user).filter(pk=grid.pk).exists():
        raise ValidationError({"grid": GRID_OUT_OF_SCOPE})
    for name in ("title", "description", "address", "reporter_name", "reporter_phone"):
        if isinstance(fields.get(name), str):
            fields[name] = fields[name].strip()
    case = Case(created_by=user, token=token, reported_at=reported_at or timezone.now(), **fields)
    if grid is not None:
        case.handling_unit = township_of(grid)
    case.number = "-"  # given below, once the case is known to be valid
    case.full_clean(exclude=["handling_unit"] if grid is None else None)
    try:
        with transaction.atomic():
            case.number = case_number_next(township=case.handling_unit, when=case.reported_at)
            case.save()
            event = CaseEvent.objects.create(
                case=case, action=CaseAction.CREATE, to_state=CaseState.REPORTED, actor=user, at=case.reported_at,
                unit=case.handling_unit,
            )
            for upload in attachments:
                case_attach(case=case, user=user, upload=upload, event=event)
            enqueue("grid.tasks.case_followup", event_id=event.pk)
    except IntegrityError:
        if token is not None:  # the same form, sent twice at once: the other request created it
            existing = Case.objects.filter(token=token).first()
            if existing is not None:
                return existing
        raise
    return case


# --- The loop ------------------------------------------------------------------------------


def case_accept(*, case: Case, user: User, triage: str, colour: str | None = None, comment: str = "") -> Case:
    """受理: the handling unit accepts the case and sorts it (三事分流); the colour may be corrected."""
    if triage not in Triage.values:
        raise ValidationError({"triage": TRIAGE_REQUIRED})
    if colour is not None and colour not in Colour.values:
        raise ValidationError({"colour": _("Choose red, yellow or green.")})
    with transaction.atomic():
        fresh = _locked(case, user, CaseAction.ACCEPT)
        _step(fresh, user, CaseAction.ACCEPT, CaseState.ACCEPTED, comment=comment.strip(), triage=triage,
              colour=colour or fresh.colour, accepted_at=timezone.now())
        return fresh


def case_reject(*, case: Case, user: User, reason: str) -> Case:
    """不予受理, with the reason."""
    reason = _required(reason, "reason", TEXT_REQUIRED)
    with transaction.atomic():
        fresh = _locked(case, user, CaseAction.REJECT)
        _step(fresh, user, CaseAction.REJECT, CaseState.REJECTED, comment=reason, closed_at=timezone.now())
        return fresh


def deadline_hours(colour: str) -> int:
    hours = ColourDeadline.objects.filter(colour=colour).values_list("hours", flat=True).first()
    return hours or DEADLINES[colour]


def case_dispatch(*, case: Case, user: User, unit: OrgUnit, assignee: User | None = None, comment: str = "") -> Case:
    """派单 to a unit in the user's area (and optionally one person there); the deadline follows the colour."""
    with transaction.atomic():
        fresh = _locked(case, user, CaseAction.DISPATCH)
        if not fresh.triage:
            raise ValidationError({"unit": TRIAGE_REQUIRED})
        ranges = _Ranges(user.home_unit_id, unit, getattr(assignee, "home_unit_id", None))
        if not _manages(user, unit, ranges):
            raise ValidationError({"unit": UNIT_OUT_OF_SCOPE})
        levels = DISPATCH_LEVELS.get(fresh.triage)
        if levels is None:
            raise ValidationError({"unit": PRIVATE_NOT_DISPATCHED})
        if unit.level not in levels:
            raise _invalid("unit", WRONG_LEVEL, triage=Triage(fresh.triage).label,
                           levels="、".join(str(Level(v).label) for v in levels))
        if assignee is not None and (not assignee.is_active or not ranges.within(assignee.home_unit_id, unit)):
            raise _invalid("assignee", ASSIGNEE_ELSEWHERE, user=assignee, unit=unit)
        if assignee is None and not unit_has_staff(unit):
            raise _invalid("unit", NOBODY_THERE, unit=unit)
        now = timezone.now()
        _step(fresh, user, CaseAction.DISPATCH, CaseState.DISPATCHED, comment=comment.strip(), unit=unit,
              handling_unit=unit, assignee=assignee, dispatcher=user, dispatcher_unit=user.home_unit or unit,
              dispatched_at=now, due_at=now + datetime.timedelta(hours=deadline_hours(fresh.colour)),
              is_overdue=False)
        return fresh


def unit_has_staff(unit: OrgUnit) -> bool:
    """Whether someone could take a case sent to ``unit``: an active account whose home unit lies in it."""
    return OrgUnit.objects.filter(pk=unit.pk).filter(active_staff_exists()).exists()


def case_recall(*, case: Case, user: User, reason: str) -> Case:
    """撤回: the dispatching unit takes back a case nobody has taken yet, to dispatch it anew."""
    reason = _required(reason, "reason", TEXT_REQUIRED)
    with transaction.atomic():
        fresh = _locked(case, user, CaseAction.RECALL)
        back_to = fresh.dispatcher_unit
        _step(fresh, user, CaseAction.RECALL, CaseState.ACCEPTED, comment=reason, unit=back_to,
              handling_unit=back_to, assignee=None, dispatcher=None, dispatcher_unit=None, dispatched_at=None,
              due_at=None, is_overdue=False)
        return fresh


def case_take(*, case: Case, user: User, comment: str = "", start: bool = False) -> Case:
    """接单: the assignee (or staff of the unit it went to) takes the case; with ``start``, work starts at once
    (one click where nothing is entered in between: two steps on the timeline, one transaction)."""
    with transaction.atomic():
        fresh = _locked(case, user, CaseAction.TAKE)
        now = timezone.now()
        _step(fresh, user, CaseAction.TAKE, CaseState.TAKEN, comment=comment.strip(), assignee=user, taken_at=now,
              at=now)
        if start:
            _step(fresh, user, CaseAction.START, CaseState.IN_PROGRESS, at=now)
        return fresh


def case_start(*, case: Case, user: User, comment: str = "") -> Case:
    """处置中: work on the case has started."""
    with transaction.atomic():
        fresh = _locked(case, user, CaseAction.START)
        _step(fresh, user, CaseAction.START, CaseState.IN_PROGRESS, comment=comment.strip())
        return fresh


def case_resolve(*, case: Case, user: User, result: str, attachments=()) -> Case:
    """办结, with what was done and the evidence (photos, documents)."""
    result = _required(result, "result", RESULT_REQUIRED)
    with transaction.atomic():
        fresh = _locked(case, user, CaseAction.RESOLVE)
        event = _step(fresh, user, CaseAction.RESOLVE, CaseState.RESOLVED, comment=result, result=result,
                      resolved_at=timezone.now())
        for upload in attachments:
            case_attach(case=fresh, user=user, upload=upload, event=event)
        return fresh


def case_verify(*, case: Case, user: User, comment: str = "") -> Case:
    """核查: the dispatching level checks the result on the spot and accepts it."""
    with transaction.atomic():
        fresh = _locked(case, user, CaseAction.VERIFY)
        _step(fresh, user, CaseAction.VERIFY, CaseState.VERIFIED, comment=comment.strip(),
              verified_at=timezone.now())
        return fresh


def case_return(*, case: Case, user: User, reason: str) -> Case:
    """退回: the result is not good enough; the case goes back to work, with the reason."""
    reason = _required(reason, "reason", TEXT_REQUIRED)
    with transaction.atomic():
        fresh = _locked(case, user, CaseAction.RETURN)
        _step(fresh, user, CaseAction.RETURN, CaseState.IN_PROGRESS, comment=reason, resolved_at=None)
        return fresh


def case_rate(*, case: Case, user: User, rating: str, comment: str = "") -> Case:
    """评价: the reporter's rating (满意/基本满意/不满意), recorded by staff."""
    if rating not in Rating.values:
        raise ValidationError({"rating": RATING_REQUIRED})
    with transaction.atomic():
        fresh = _locked(case, user, CaseAction.RATE)
        _step(fresh, user, CaseAction.RATE, CaseState.RATED, comment=comment.strip(), rating=rating)
        return fresh


def case_close(*, case: Case, user: User, comment: str = "") -> Case:
    """结案."""
    with transaction.atomic():
        fresh = _locked(case, user, CaseAction.CLOSE)
        _step(fresh, user, CaseAction.CLOSE, CaseState.CLOSED, comment=comment.strip(), closed_at=timezone.now(),
              is_overdue=False)
        return fresh


def case_escalate(*, case: Case, user: User, reason: str) -> Case:
    """上报上级: the case moves to the parent of the unit handling it, which dispatches it anew."""
    reason = _required(reason, "reason", TEXT_REQUIRED)
    with transaction.atomic():
        fresh = _locked(case, user, CaseAction.ESCALATE)
        parent = fresh.handling_unit.parent
        if parent is None:
            raise ValidationError(NO_PARENT, params={"unit": fresh.handling_unit})
        state = CaseState.REPORTED if fresh.state == CaseState.REPORTED else CaseState.ACCEPTED
        _step(fresh, user, CaseAction.ESCALATE, state, comment=reason, unit=parent, handling_unit=parent,
              assignee=None, dispatcher=None, dispatcher_unit=None, due_at=None, is_overdue=False)
        return fresh


# --- Attachments -----------------------------------------------------------------------------

# What a file really is, from its first bytes (its name and the browser's word are not trusted).
_SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"GIF87a", "image/gif", ".gif"),
    (b"GIF89a", "image/gif", ".gif"),
    (b"%PDF-", "application/pdf", ".pdf"),
)
ATTACHMENT_TYPE = _("Only images (JPEG, PNG, GIF, WebP) and PDF files can be attached: “%(name)s” is neither.")
ATTACHMENT_SIZE = _("“%(name)s” is larger than %(limit)d MB.")
ATTACHMENT_EMPTY = _("“%(name)s” is empty.")


def sniff_content_type(head: bytes) -> tuple[str, str] | None:
    """(content type, suffix) of a supported file from its first bytes, or None."""
    for signature, content_type, suffix in _SIGNATURES:
        if head.startswith(signature):
            return content_type, suffix
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp", ".webp"
    return None


def attachment_check(upload) -> tuple[str, str]:
    """Refuse a file that is not an image or a PDF by its content, empty, or too large."""
    name = getattr(upload, "name", "") or "?"
    size = upload.size
    limit = settings.CASE_ATTACHMENT_MAX_BYTES
    if not size:
        raise _invalid("attachments", ATTACHMENT_EMPTY, name=name)
    if size > limit:
        raise _invalid("attachments", ATTACHMENT_SIZE, name=name, limit=limit // 2**20)
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    found = sniff_content_type(head)
    if found is None:
        raise _invalid("attachments", ATTACHMENT_TYPE, name=name)
    return found


def case_attach(*, case: Case, user: User, upload, event: CaseEvent | None = None) -> CaseAttachment:
    content_type, suffix = attachment_check(upload)
    name = (getattr(upload, "name", "") or "file")[-200:]
    attachment = CaseAttachment(case=case, event=event, name=name, content_type=content_type, size=upload.size,
                                uploaded_by=user)
    # The stored name keeps only the detected type's suffix: "photo.jpg.exe" is stored as .jpg or refused.
    attachment.file.save(f"upload{suffix}", upload, save=False)
    attachment.save()
    return attachment


# --- Follow-up: notifications and the overdue scan ---------------------------------------------

NOTE_NEW = _("New case %(number)s: %(title)s")
NOTE_DISPATCHED = _("Case %(number)s was dispatched to you: %(title)s (due %(due)s)")
NOTE_RETURNED = _("Case %(number)s was returned: %(reason)s")
NOTE_RESOLVED = _("Case %(number)s is resolved and waits for your check: %(title)s")
NOTE_ESCALATED = _("Case %(number)s was escalated to your unit: %(title)s")
NOTE_OVERDUE = _("Case %(number)s is overdue (was due %(due)s): %(title)s")


def case_url(case: Case) -> str:
    return reverse("grid:case-detail", args=[case.pk])


def _unit_staff(unit: OrgUnit | None, managers_only: bool = False):
    if unit is None:
        return User.objects.none()
    users = User.objects.filter(home_unit=unit, is_active=True)
    return users.filter(role__in=MANAGER_ROLES) if managers_only else users


def _local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


def case_event_notify(*, event_id: int) -> int:
    """The notifications of one step (idempotent: a step notifies once, however often it is sent)."""
    from governance.notifications import notification_send

    event = CaseEvent.objects.select_related("case", "case__assignee", "case__dispatcher").filter(pk=event_id).first()
    if event is None:
        return 0
    case = event.case
    params = {"number": case.number, "title": case.title, "due": _local(case.due_at), "reason": event.comment}
    if event.action == CaseAction.CREATE:
        users, text = _unit_staff(case.handling_unit, managers_only=True), NOTE_NEW
    elif event.action == CaseAction.DISPATCH:
        users = [case.assignee] if case.assignee_id else _unit_staff(event.unit)
        text = NOTE_DISPATCHED
    elif event.action == CaseAction.RETURN:
        users, text = [case.assignee] if case.assignee_id else [], NOTE_RETURNED
    elif event.action == CaseAction.RESOLVE:
        users, text = [case.dispatcher] if case.dispatcher_id else [], NOTE_RESOLVED
    elif event.action == CaseAction.ESCALATE:
        users, text = _unit_staff(event.unit, managers_only=True), NOTE_ESCALATED
    else:
        return 0
    return notification_send(users=[u for u in users if u.pk != event.actor_id], text=text % params,
                             url=case_url(case), key=f"case-event-{event.pk}")


def cases_mark_overdue(*, now: datetime.datetime | None = None) -> int:
    """Flag cases past their deadline, once each: an event and a notice to the assignee and the dispatcher."""
    from governance.notifications import notification_send

    now = now or timezone.now()
    due = Case.objects.filter(state__in=WORKING_STATES, due_at__lt=now, is_overdue=False)
    marked = 0
    for pk in list(due.values_list("pk", flat=True)[:5000]):
        with transaction.atomic():
            # Claimed by a conditional UPDATE: two scans at once flag (and notify) a case once.
            if not due.filter(pk=pk).update(is_overdue=True):
                continue
            case = Case.objects.select_related("assignee", "dispatcher").get(pk=pk)
            event = CaseEvent.objects.create(case=case, action=CaseAction.OVERDUE, from_state=case.state,
                                             to_state=case.state, at=now)
            users = [user for user in (case.assignee, case.dispatcher) if user is not None]
            if not users:
                users = list(_unit_staff(case.handling_unit))
            notification_send(users=users, text=NOTE_OVERDUE % {"number": case.number, "title": case.title,
                                                                "due": _local(case.due_at)},
                              url=case_url(case), key=f"case-event-{event.pk}")
            marked += 1
    return marked


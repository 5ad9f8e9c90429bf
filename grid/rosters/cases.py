"""The roster of historical cases, imported from a county's old system (and the case list's export).

See ``CaseRoster`` for what a row is and how it is checked, numbered and written.
"""

import datetime
import re
from bisect import bisect_right
from collections import defaultdict

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from openpyxl.utils.datetime import from_excel

from governance.models import Level, OrgUnit
from governance.rosters import (
    PERSONAL_PHONE,
    Bool,
    Choice,
    Column,
    Parser,
    Ref,
    RosterSpec,
    Text,
    chunked,
    insert_instances,
    insert_rows,
    register,
    update_instances,
)
from governance.rosters.org import GRID_LEVELS
from grid.models import (
    FINAL_STATES,
    WORKING_STATES,
    Case,
    CaseAction,
    CaseCategory,
    CaseCounter,
    CaseEvent,
    CaseSource,
    CaseState,
    Colour,
    Rating,
    Triage,
)
from grid.rosters.terms import CASE_CATEGORIES
from grid.services.cases import NO_TOWNSHIP, deadline_hours

_DATETIME_RE = re.compile(
    r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:\s*T?\s*(\d{1,2})\s*[:：]\s*(\d{2})(?:\s*[:：]\s*(\d{2})(?:\.\d+)?)?)?"
)
NOT_A_MOMENT = _('"%(value)s" is not a date and time: use YYYY-MM-DD HH:MM.')


class DateTime(Parser):
    """A moment in local time: an Excel date cell, or text such as 2024-05-06 14:30 (a date alone is midnight)."""

    def __call__(self, value):
        return self.bind()(value)

    def bind(self):
        zone = timezone.get_current_timezone()

        def parse(value):
            moment = None
            if isinstance(value, datetime.datetime):
                moment = value
            elif isinstance(value, datetime.date):
                moment = datetime.datetime.combine(value, datetime.time())
            elif isinstance(value, int | float) and not isinstance(value, bool) and 1 <= value < 2958466:
                converted = from_excel(value)
                if isinstance(converted, datetime.datetime):
                    moment = converted
            else:
                match = _DATETIME_RE.fullmatch(str(value).strip())
                if match:
                    year, month, day, hour, minute, second = match.groups()
                    try:
                        return datetime.datetime(int(year), int(month), int(day), int(hour or 0),
                                                 int(minute or 0), int(second or 0), tzinfo=zone)
                    except ValueError:
                        pass
            if moment is None:
                raise ValidationError(NOT_A_MOMENT % {"value": str(value).strip()})
            if moment.tzinfo is None:
                return moment.replace(tzinfo=zone, microsecond=0)
            return moment.replace(microsecond=0)

        return parse

    def describe(self):
        return gettext("Date and time: YYYY-MM-DD HH:MM (e.g. 2024-05-06 14:30) or an Excel date")

    def display(self, value):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else None


class _Unnumbered:
    """The key of a row without a case number: unique (such rows are no repeats) and matching no case."""

    __slots__ = ()

    def __str__(self):
        return ""


class CaseNumber(Text):
    """A case number kept from the old system; an empty cell asks for a new one."""

    @property
    def empty(self):
        return _Unnumbered()

    def describe(self):
        return gettext("Text; empty: a new number (township code, year and month reported, sequence)")


# How old systems' exports write the sources the labels do not shorten to (Chinese files).
SOURCE_SHORT_FORMS = {CaseSource.HOTLINE: ("热线", "12345"), CaseSource.ONLINE: ("微信", "小程序"),
                      CaseSource.VISIT: ("来访",), CaseSource.PATROL: ("巡查",)}
NUMBER_PENDING = "-"  # the number of a new case until write() gives it one
OUR_NUMBER = re.compile(r"(\d{9})(\d{4})(\d{2})(\d{5,})")  # township code[:9], YYYY, MM, sequence
STEP_FIELDS = ("reported_at", "accepted_at", "dispatched_at", "resolved_at", "verified_at", "closed_at")
# The state a case must be in (at least) to have the time of each step.
_STEP_STATES = {
    "accepted_at": (CaseState.ACCEPTED, CaseState.DISPATCHED, CaseState.TAKEN, CaseState.IN_PROGRESS,
                    CaseState.RESOLVED, CaseState.VERIFIED, CaseState.RATED, CaseState.CLOSED),
    "dispatched_at": (CaseState.DISPATCHED, CaseState.TAKEN, CaseState.IN_PROGRESS, CaseState.RESOLVED,
                      CaseState.VERIFIED, CaseState.RATED, CaseState.CLOSED),
    "resolved_at": (CaseState.RESOLVED, CaseState.VERIFIED, CaseState.RATED, CaseState.CLOSED),
    "verified_at": (CaseState.VERIFIED, CaseState.RATED, CaseState.CLOSED),
    "closed_at": (CaseState.CLOSED, CaseState.REJECTED),
}
# The times a case in each state must have (reported_at is required for every case).
_STATE_NEEDS = {
    CaseState.ACCEPTED: ("accepted_at",),
    CaseState.DISPATCHED: ("dispatched_at",),
    CaseState.TAKEN: ("dispatched_at",),
    CaseState.IN_PROGRESS: ("dispatched_at",),
    CaseState.RESOLVED: ("resolved_at",),
    CaseState.VERIFIED: ("resolved_at", "verified_at"),
    CaseState.RATED: ("resolved_at", "verified_at"),
    CaseState.CLOSED: ("closed_at",),
    CaseState.REJECTED: ("closed_at",),
}
EVENT_COLUMNS = ("case_id", "action", "from_state", "to_state", "actor_id", "unit_id", "at", "comment", "migrated")

CATEGORY_NOT_FOUND = _('There is no case category "%(value)s": give its code or name as listed in the admin.')
CATEGORY_NOTE = _("Code or name of a sub-category, or of a top category when the old system recorded no more; "
                  "or the county's own name for it.")
CATEGORY_AMBIGUOUS = _('"%(value)s" names several categories (%(names)s): give the code or "category/sub-category".')
IN_FUTURE = _("This time is in the future.")
OUT_OF_ORDER = _("This is earlier than %(column)s: the steps of a case follow each other.")
STATE_NEEDS_TIME = _("A case in the state “%(state)s” needs this time.")
STATE_TOO_EARLY = _("A case in the state “%(state)s” has not reached this step: leave it empty or correct the state.")
RATING_NEEDED = _("A rated case needs the rating.")
RATING_TOO_EARLY = _("Only a rated or closed case has a rating.")
REPEATED_CASE = _(
    "Repeats row %(row)d (same grid, time reported and title): give the cases their numbers to tell them apart."
)
CASE_EXISTS = _(
    "Case %(number)s is already in the system with other values (%(columns)s): an import adds cases, "
    "it does not change them."
)


class _CaseLookups:
    """What the rows of one case file are checked against, loaded once per import: categories (with
    the local names in force in the importing user's area), townships (to find a grid's township
    from the tree numbers) and deadlines by colour."""

    def __init__(self, user, local_names: dict[str, str]):
        self.user = user
        self.now = timezone.now()
        categories = list(CaseCategory.objects.select_related("parent").prefetch_related("children"))
        self.by_code = {_fold(c.code): c for c in categories}
        self.by_path = {_fold(f"{c.parent.name}/{c.name}"): c for c in categories if c.parent_id}
        self.by_name = defaultdict(list)
        for c in categories:
            self.by_name[_fold(c.name)].append(c)
        by_code = {c.code: c for c in categories}
        self.by_local_name = {name: by_code[code] for name, code in local_names.items() if code in by_code}
        self.trees = defaultdict(list)
        for township in OrgUnit.objects.filter(level=Level.TOWNSHIP).only("pk", "code", "tree_id", "lft", "rght"):
            self.trees[township.tree_id].append(township)
        self.lfts = {}
        for tree_id, townships in self.trees.items():
            townships.sort(key=lambda unit: unit.lft)
            self.lfts[tree_id] = [unit.lft for unit in townships]
        self.townships = {unit.pk: unit for units in self.trees.values() for unit in units}
        self.hours = {}

    def category(self, text: str):
        """The category a cell names (code, "category/sub-category" or name), or the message why not."""
        key = _fold(text).replace("／", "/")
        found = self.by_code.get(key) or self.by_path.get(key)
        if found is not None:
            return found
        named = self.by_name.get(key, ())
        if not named and key in self.by_local_name:
            return self.by_local_name[key]
        if len(named) == 1:
            return named[0]
        if named:
            return CATEGORY_AMBIGUOUS % {"value": text, "names": "、".join(c.code for c in named)}
        return CATEGORY_NOT_FOUND % {"value": text}

    def township_of(self, unit):
        lfts = self.lfts.get(unit.tree_id)
        if not lfts:
            return None
        index = bisect_right(lfts, unit.lft) - 1
        township = self.trees[unit.tree_id][index] if index >= 0 else None
        return township if township is not None and township.lft <= unit.lft < township.rght else None

    def deadline(self, colour: str) -> datetime.timedelta:
        if colour not in self.hours:
            self.hours[colour] = datetime.timedelta(hours=deadline_hours(colour))
        return self.hours[colour]


def _fold(text) -> str:
    return "".join(str(text).split()).casefold()


def case_is_overdue(*, state: str, due_at, resolved_at, now) -> bool:
    """What the live loop would store: past due while being worked on, or resolved late and not yet
    closed (closing clears the flag, as ``case_close`` does; a rejected case never had a deadline)."""
    if due_at is None or state in FINAL_STATES:
        return False
    if state in WORKING_STATES:
        return due_at < now
    return resolved_at is not None and resolved_at > due_at


class CaseRoster(RosterSpec):
    """Historical cases from a county's old system (key: the case number).

    Each row is a case as it ended up: its final state and the times of the steps it went
    through. The number is kept when given; an empty one gets the next number of the grid's
    township for the month reported (the counters move past every number written, kept ones of
    the same form included, so cases entered later never reuse one). The case is handled by the
    grid's township; its deadline runs from the dispatch time by its colour. One event marked
    as migrated is written per recorded step. A case already in the system is left alone: the
    same row again is "unchanged", a row with other values is refused (an import adds cases,
    it does not edit them; their events would no longer match).

    History is kept as it happened, not as today's rules would have it: a case may name only
    a top category (an old system that recorded no more), and a private matter may have been
    dispatched. The file's own facts must still agree (steps in order, times the state has
    reached, a rating only when rated). The case is marked as migrated; its next step goes
    through ``grid.services.cases`` and today's rules.
    """

    kind = "cases"
    label = Case._meta.verbose_name_plural
    model = Case
    key = ("number",)
    key_paths = ("number",)
    matching_note = _("Rows are matched by %(key)s: a case already in the system is left as it is (the same row "
                      "again is unchanged, other values are refused); an import adds cases, it does not edit them.")
    checks_partial_rows = True
    clean_needs = ()  # Case.clean() reads a relation only when it is set
    follows = {"description": ("title",)}
    local_names_from = "grid__code"
    # No export order of its own: the case list's export keeps the list's sorting (the model's: newest first).
    columns = [
        Column("number", _("Case number"), CaseNumber(), example="", width=22,
               note=_("The old system's number is kept; leave it empty to give the case a new one.")),
        Column("title", _("Title"), Text(), required=True, example=_("Wall dispute between neighbours"), width=30),
        Column("description", pgettext_lazy("case", "Description"), Text(), width=40, note=_("Empty: the title.")),
        Column("category", _("Category"), Text(description=CATEGORY_NOTE), required=True, export="category__name",
               term=CASE_CATEGORIES, term_code="category__code", example="邻里纠纷", width=20),
        Column("grid", _("Grid code"), Ref(OrgUnit, "code", _("grid"), filter={"level__in": GRID_LEVELS},
                                            description=_("Code of the grid or micro-grid")),
               required=True, example="51342410220100101", width=20),
        Column("grid_name", _("Grid"), export="grid__name", width=20),
        Column("colour", _("Colour"), Choice(Colour, default=Colour.GREEN), example=Colour.GREEN.label, width=8,
               note=_("Empty: green.")),
        Column("triage", _("Triage"), Choice(Triage), example=Triage.MINOR.label, width=14),
        Column("source", _("Source"), Choice(CaseSource, default=CaseSource.OTHER, short_forms=SOURCE_SHORT_FORMS),
               example=CaseSource.HOTLINE.label, width=14, note=_("Empty: other.")),
        Column("reporter_name", _("Reporter"), Text(), example=_("Zhang San"), width=12),
        Column("reporter_phone", _("Reporter's phone"), Text(), personal=PERSONAL_PHONE, example="13900000000",
               width=14),
        Column("address", _("Address"), Text(), width=30),
        Column("reported_at", _("Reported at"), DateTime(), required=True, example="2024-05-06 09:30", width=17),
        Column("accepted_at", _("Accepted at"), DateTime(), example="2024-05-06 10:05", width=17),
        Column("dispatched_at", _("Dispatched at"), DateTime(), example="2024-05-06 11:00", width=17,
               note=_("The deadline runs from here, by the colour.")),
        Column("resolved_at", _("Resolved at"), DateTime(), example="2024-05-08 16:20", width=17),
        Column("verified_at", _("Verified at"), DateTime(), example="2024-05-09 10:00", width=17),
        Column("closed_at", _("Closed at"), DateTime(), example="2024-05-10 09:00", width=17,
               note=_("For a rejected case: when it was rejected.")),
        Column("state", _("State"), Choice(CaseState), required=True, example=CaseState.CLOSED.label, width=10,
               note=_("The state the case ended in; it must agree with the times given.")),
        Column("result", _("Result"), Text(), example=_("Mediated: the wall was rebuilt on the old line."),
               width=30, note=_("What was done; for a rejected case, why.")),
        Column("rating", _("Rating"), Choice(Rating), example=Rating.SATISFIED.label, width=10),
        # Exported only (the list's Excel export): derived by the loop, not imported.
        Column("handling_unit", _("Handling unit"), export="handling_unit__name", width=20),
        Column("due_at", _("Due"), export="due_at", display=DateTime(), width=17),
        Column("is_overdue", _("Overdue"), export="is_overdue", display=Bool(), width=8),
    ]

    def lookups(self, job) -> _CaseLookups:
        found = job.context.get("cases")
        if found is None:
            found = job.context["cases"] = _CaseLookups(job.user, job.local_names.accepted(CASE_CATEGORIES))
        return found

    def prepare(self, row, kwargs, job):
        # A bad cell holds its empty value here: what derives from it is left unset (the row is not written).
        lookups = self.lookups(job)
        ok = job.cells_ok
        if isinstance(kwargs.get("number"), _Unnumbered):
            kwargs["number"] = NUMBER_PENDING
        category = None
        if ok(row, "category"):
            category = lookups.category(kwargs.get("category") or "")
            if not isinstance(category, CaseCategory):
                job.error(row, job.header_of("category"), category)
                category = None
        kwargs["category"] = category
        grid = kwargs.get("grid")
        township = lookups.township_of(grid) if grid is not None else None
        if grid is not None and township is None:
            job.error(row, job.header_of("grid"), NO_TOWNSHIP)
        kwargs.pop("handling_unit", None)
        kwargs["handling_unit_id"] = township.pk if township is not None else None
        if not kwargs.get("description"):
            kwargs["description"] = kwargs.get("title") or ""
        dispatched = kwargs.get("dispatched_at")
        due = dispatched + lookups.deadline(kwargs["colour"]) if dispatched and ok(row, "colour") else None
        kwargs["due_at"] = due
        kwargs["dispatcher_unit_id"] = township.pk if dispatched and township is not None else None
        kwargs["is_overdue"] = case_is_overdue(state=kwargs["state"], due_at=due,
                                               resolved_at=kwargs.get("resolved_at"), now=lookups.now)
        kwargs["migrated"] = True
        kwargs["token"] = None
        if row.existing is None:
            kwargs["created_by_id"] = getattr(job.user, "pk", None)

    def clean_instance(self, row, case, job):
        try:
            case.clean()
        except ValidationError as exc:
            errors = exc.update_error_dict({})
            # Case.clean()'s one category rule asks for a sub-category: an old system that recorded
            # only the top category keeps it.
            errors.pop("category", None)
            if errors:
                raise ValidationError(errors) from None

    def validate(self, row, case, job):
        """The file's own facts agree: times in the past and in order, the times the state has reached
        (no more, no less), a rating when rated. Each rule reads only cells that parsed."""
        header = job.header_of
        ok = job.cells_ok
        now = self.lookups(job).now
        previous = None
        for name in STEP_FIELDS:
            moment = getattr(case, name)
            if moment is None or not ok(row, name):
                continue
            if moment > now:
                job.error(row, header(name), IN_FUTURE)
            elif previous is not None and moment < previous[1]:
                job.error(row, header(name), OUT_OF_ORDER % {"column": header(previous[0])})
            previous = (name, moment)
        if not ok(row, "state"):
            return
        state = case.state
        label = CaseState(state).label
        for name in _STATE_NEEDS.get(state, ()):
            if getattr(case, name) is None and ok(row, name):
                job.error(row, header(name), STATE_NEEDS_TIME % {"state": label})
        for name, states in _STEP_STATES.items():
            if getattr(case, name) is not None and state not in states and ok(row, name):
                job.error(row, header(name), STATE_TOO_EARLY % {"state": label})
        if not ok(row, "rating"):
            return
        if case.rating and state not in (CaseState.RATED, CaseState.CLOSED):
            job.error(row, header("rating"), RATING_TOO_EARLY)
        elif not case.rating and state == CaseState.RATED:
            job.error(row, header("rating"), RATING_NEEDED)

    def check(self, job):
        _match_unnumbered(job)
        # A case already in the system is not changed: the same values again are "unchanged".
        written = job.written_attnames()
        headers = {Case._meta.get_field(c.field).attname: job.header_of(c) for _i, c in job.mapped if c.field}
        for row in job.rows:
            if row.existing is None or row.instance is None or row.failed:
                continue  # a row with errors cannot be compared: its bad cells hold no value
            changed = job.changed_attnames(row, written)
            if changed:
                job.error(row, job.header_of("number"), CASE_EXISTS % {
                    "number": row.instance.number, "columns": "、".join(headers.get(a, a) for a in changed)})

    def write(self, job):
        created = job.created
        cases = [row.instance for row in created]
        _number_cases(self.lookups(job), cases)
        adapt = _moment_adapter()
        _insert_cases(cases, adapt)
        insert_rows(CaseEvent, EVENT_COLUMNS, [event for case in cases for event in _case_events(case, adapt)])


def _moment_adapter():
    """An aware datetime as ``insert_rows`` takes it: as is for PostgreSQL's COPY; elsewhere the text
    Django stores (naive, in the connection's time zone), without ``adapt_datetimefield_value``'s cost."""
    if connection.vendor == "postgresql":
        return lambda value: value
    zone = connection.timezone
    done: dict = {}  # the events' times are the cases' times again

    def adapt(value):
        if value is None:
            return None
        text = done.get(value)
        if text is None:
            moment = value.astimezone(zone).replace(tzinfo=None) if value.tzinfo and zone else value
            text = done[value] = str(moment)
        return text

    return adapt


def _insert_cases(cases: list, moment) -> None:
    """``insert_instances`` on PostgreSQL (COPY); elsewhere one prepared INSERT for every row, with ids
    given here: ``bulk_create`` on SQLite sends 28 rows per statement (999 parameters) and prepares
    every value, about 0.6 ms a case."""
    if not cases:
        return
    if connection.vendor == "postgresql":
        insert_instances(Case, cases)
        return
    now = timezone.now()
    first = (Case.objects.aggregate(top=Max("pk"))["top"] or 0) + 1
    fields = list(Case._meta.concrete_fields)
    converters = []
    for f in fields:
        kind = f.get_internal_type()
        if kind == "DateTimeField":
            converters.append(moment)
        elif kind in ("CharField", "TextField", "BooleanField", "ForeignKey", "BigAutoField", "AutoField",
                      "PositiveIntegerField", "IntegerField"):
            converters.append(None)
        else:
            converters.append(lambda value, f=f: None if value is None else f.get_db_prep_save(value, connection))
    attnames = [f.attname for f in fields]
    plan = list(zip(attnames, converters, strict=True))
    rows = []
    for offset, case in enumerate(cases):
        case.pk = first + offset
        case.updated_at = now
        values = case.__dict__
        rows.append(tuple(values[name] if convert is None else convert(values[name]) for name, convert in plan))
        case._state.adding = False
    insert_rows(Case, tuple(attnames), rows)


def _match_unnumbered(job) -> None:
    """Rows without a number are matched to the migrated cases by grid, time reported and title, so
    that importing the same file again finds them (two such rows alike in the file are refused)."""
    rows = [row for row in job.rows if row.instance is not None and row.instance.number == NUMBER_PENDING
            and job.cells_ok(row, "grid", "reported_at", "title")]
    if not rows:
        return
    seen = {}
    for row in rows:
        case = row.instance
        key = (case.grid_id, case.reported_at, case.title)
        first = seen.setdefault(key, row)
        if first is not row:
            job.error(row, job.header_of("number"), REPEATED_CASE % {"row": first.number})
    attnames = [f.attname for f in Case._meta.concrete_fields]
    grids = sorted({row.instance.grid_id for row in rows})
    start = min(row.instance.reported_at for row in rows)
    end = max(row.instance.reported_at for row in rows)
    found = {}
    for chunk in chunked(grids):
        records = Case.objects.filter(migrated=True, grid_id__in=chunk, reported_at__range=(start, end))
        for record in records.values(*attnames):
            found.setdefault((record["grid_id"], record["reported_at"], record["title"]), record)
    for key, row in seen.items():
        record = found.get(key)
        if record is not None:
            row.existing = record
            row.instance.pk = record["id"]
            row.instance.number = record["number"]
            row.instance._state.adding = False


def _number_cases(lookups: _CaseLookups, cases: list) -> None:
    """Give the new cases without a number the next ones of their township and month (in the order
    reported), past every kept number of the same form, and move the counters (rows locked) to match."""
    townships = lookups.townships
    by_code = {unit.code[:9]: unit.pk for unit in townships.values()}
    kept: dict[tuple[int, str], int] = {}
    pending = defaultdict(list)
    for case in cases:
        if case.number == NUMBER_PENDING:
            pending[(case.handling_unit_id, timezone.localtime(case.reported_at).strftime("%Y%m"))].append(case)
            continue
        match = OUR_NUMBER.fullmatch(case.number)
        if match and match[1] in by_code and 1 <= int(match[3]) <= 12:
            key = (by_code[match[1]], match[2] + match[3])
            kept[key] = max(kept.get(key, 0), int(match[4]))
    keys = set(kept) | set(pending)
    if not keys:
        return
    months = sorted({month for _township, month in keys})
    counters = {}
    for chunk in chunked(sorted({township for township, _month in keys})):
        rows = CaseCounter.objects.select_for_update().filter(township_id__in=chunk, month__in=months)
        counters.update(((counter.township_id, counter.month), counter) for counter in rows)
    new, changed = [], []
    for key in sorted(keys):
        township_id, month = key
        counter = counters.get(key)
        last = max(counter.last if counter else 0, kept.get(key, 0))
        prefix = townships[township_id].code[:9] + month
        for case in sorted(pending.get(key, ()), key=lambda case: case.reported_at):
            last += 1
            case.number = f"{prefix}{last:05d}"
        if counter is None:
            new.append(CaseCounter(township_id=township_id, month=month, last=last))
        elif last != counter.last:
            counter.last = last
            changed.append(counter)
    insert_instances(CaseCounter, new)
    update_instances(CaseCounter, changed, ["last"])


def _case_events(case, adapt) -> list[tuple]:
    """One migrated event per step the case went through, as the loop would have recorded them."""
    events = []
    state = ""

    def add(action, to_state, at, comment="", unit_id=None):
        nonlocal state
        events.append((case.pk, action, state, to_state, None, unit_id, adapt(at), comment, True))
        state = to_state

    add(CaseAction.CREATE, CaseState.REPORTED, case.reported_at, unit_id=case.handling_unit_id)
    if case.state == CaseState.REJECTED:
        add(CaseAction.REJECT, CaseState.REJECTED, case.closed_at, case.result)
        return events
    if case.accepted_at:
        add(CaseAction.ACCEPT, CaseState.ACCEPTED, case.accepted_at)
    if case.dispatched_at:
        add(CaseAction.DISPATCH, CaseState.DISPATCHED, case.dispatched_at, unit_id=case.handling_unit_id)
    if case.resolved_at:
        add(CaseAction.RESOLVE, CaseState.RESOLVED, case.resolved_at, case.result)
    if case.verified_at:
        add(CaseAction.VERIFY, CaseState.VERIFIED, case.verified_at)
    if case.rating:
        add(CaseAction.RATE, CaseState.RATED, case.closed_at or case.verified_at)
    if case.closed_at:
        add(CaseAction.CLOSE, CaseState.CLOSED, case.closed_at)
    return events


register(CaseRoster())

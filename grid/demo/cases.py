"""The demo's planned cases (``grid.demo.case_plan``) written in bulk, one township at a time,
with their events, mediation records and numbering counters (CaseCounter rows end at the last
number given)."""

import datetime
import zoneinfo
from collections import Counter

from django.conf import settings
from django.db import connection

from governance.demo.hooks import DemoContext
from grid.demo.case_plan import PlannedCase, plan_cases
from grid.models import (
    Case,
    CaseAction,
    CaseCategory,
    CaseCounter,
    CaseEvent,
    CaseSource,
    ColourDeadline,
    Mediation,
)
from grid.taxonomy import DEADLINES, seed_taxonomy

CASE_COLUMNS = (
    "id", "number", "title", "description", "category_id", "source", "triage", "colour", "grid_id", "household_id",
    "address", "latitude", "longitude", "reporter_id", "reporter_name", "reporter_phone", "state",
    "handling_unit_id", "assignee_id", "dispatcher_id", "dispatcher_unit_id", "due_at", "is_overdue", "result",
    "rating", "reported_at", "accepted_at", "dispatched_at", "taken_at", "resolved_at", "verified_at", "closed_at",
    "updated_at", "created_by_id", "token", "migrated",
)
EVENT_COLUMNS = ("id", "case_id", "action", "from_state", "to_state", "actor_id", "unit_id", "at", "comment",
                 "migrated")
MEDIATION_COLUMNS = ("id", "case_id", "held_on", "mediator", "room", "outcome", "notes", "recorded_by_id",
                     "created_at")
COUNTER_COLUMNS = ("id", "township_id", "month", "last")
REPORTED_BY = {
    CaseSource.GRID_WORKER: "网格员上报", CaseSource.HOTLINE: "12345热线转办", CaseSource.PATROL: "网格巡查发现",
    CaseSource.VISIT: "群众来访反映", CaseSource.ONLINE: "群众通过微信小程序反映", CaseSource.ASSIGNED: "上级交办",
    CaseSource.OTHER: "群众反映",
}


def _stamper():
    """Epoch seconds → the value the bulk writer takes for a DateTimeField (cached: events repeat the cases' times)."""
    done: dict[int, str] = {}
    if connection.vendor == "postgresql":
        def convert(t):
            return datetime.datetime.fromtimestamp(t, datetime.UTC).isoformat()
    else:
        zone = connection.timezone or datetime.UTC

        def convert(t):
            return str(datetime.datetime.fromtimestamp(t, zone).replace(tzinfo=None))

    def stamp(t):
        if t is None:
            return None
        text = done.get(t)
        if text is None:
            text = done[t] = convert(t)
        return text

    return stamp


def _address(case: PlannedCase, rand) -> str:
    style = case.leaf.address
    if style is None:
        return ""
    if style.rural:
        return f"{style.prefix}{style.group + int(rand() * 3)}组"
    return f"{style.prefix}{style.road}{style.road_no}号{style.estate}{style.group}栋"


def seed_cases(ctx: DemoContext) -> None:
    with ctx.step("cases"):
        categories = dict(ctx.query(CaseCategory.objects.values_list("code", "id")))
        if "other" not in categories:  # a database emptied by a transactional test
            seed_taxonomy(CaseCategory, ColourDeadline)
            categories = dict(ctx.query(CaseCategory.objects.values_list("code", "id")))
        deadlines = dict(DEADLINES)
        deadlines.update(ctx.query(ColourDeadline.objects.values_list("colour", "hours")))
        zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
        stamp = _stamper()
        ids = {model: ctx.next_id(model) for model in (Case, CaseEvent, Mediation, CaseCounter)}
        rand = ctx.rng("grid", "cases", "text").random
        for township, cases in plan_cases(ctx.plan, ctx.as_of, deadlines):
            case_rows, event_rows, mediation_rows = [], [], []
            months = Counter()
            case_id, event_id, mediation_id = ids[Case], ids[CaseEvent], ids[Mediation]
            for case in cases:
                times = {}
                state = ""
                for action, to_state, at, comment, unit in case.steps:
                    if action == CaseAction.OVERDUE:
                        to_state = state
                    else:
                        times[action] = at
                    event_rows.append((event_id, case_id, action, state, to_state, None,
                                       unit.pk if unit is not None else None, stamp(at), comment, False))
                    event_id += 1
                    state = to_state
                resolved = times.get(CaseAction.RESOLVE)
                if resolved is not None and times.get(CaseAction.RETURN, 0) > resolved:
                    resolved = None
                dispatched = times.get(CaseAction.DISPATCH)
                address = _address(case, rand)
                name, phone = case.reporter
                case_rows.append((
                    case_id, case.number, case.title, f"{REPORTED_BY[case.source]}：{address}{case.title}，请予处理。",
                    categories[case.category], case.source, case.triage, case.colour, case.leaf.pk, None, address,
                    None, None, None, name, phone, case.state, case.handling.pk, None, None,
                    township.pk if dispatched else None, stamp(case.due), case.overdue, case.result, case.rating,
                    stamp(case.reported), stamp(times.get(CaseAction.ACCEPT)), stamp(dispatched),
                    stamp(times.get(CaseAction.TAKE)), stamp(resolved), stamp(times.get(CaseAction.VERIFY)),
                    stamp(times.get(CaseAction.CLOSE) or times.get(CaseAction.REJECT)), stamp(case.steps[-1][2]),
                    None, None, False,
                ))
                for held, mediator, room, outcome in case.mediations:
                    mediation_rows.append((mediation_id, case_id, datetime.datetime.fromtimestamp(held, zone)
                                           .date().isoformat(), mediator, room, outcome, "", None, stamp(held)))
                    mediation_id += 1
                months[case.number[9:15]] += 1
                case_id += 1
            counter_rows = []
            for month, last in sorted(months.items()):
                counter_rows.append((ids[CaseCounter], township.pk, month, last))
                ids[CaseCounter] += 1
            ids[Case], ids[CaseEvent], ids[Mediation] = case_id, event_id, mediation_id
            ctx.write(Case, CASE_COLUMNS, case_rows)
            ctx.write(CaseEvent, EVENT_COLUMNS, event_rows)
            ctx.write(Mediation, MEDIATION_COLUMNS, mediation_rows)
            ctx.write(CaseCounter, COUNTER_COLUMNS, counter_rows)



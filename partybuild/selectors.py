"""Reads of the party-building app that are more than one filter. Every selector takes the user.

Each returns what one page needs in a constant number of queries, whatever the number of
rows: aggregates are grouped in SQL, and related rows come with ``select_related`` or one
prefetch.
"""

import datetime
from decimal import Decimal

from django.db.models import Count, Exists, F, Min, OuterRef, Q, QuerySet, Subquery, Sum, Window
from django.db.models.functions import RowNumber

from governance.models import OrgUnit
from governance.scope import scope_filter
from governance.selectors import count_subquery, subtree_q
from partybuild.models import (
    WISH_FLOW,
    CentralHousehold,
    MemberRegistration,
    PartyMember,
    PartyOrganization,
    PartyOrganizationKind,
    RegistrationStatus,
    ServiceRecord,
    Wish,
    WishState,
)

# How many wishes each column of the board shows (the newest); the count covers them all.
BOARD_COLUMN_SIZE = 50


def wish_eligible_members(*, community: OrgUnit, fetched_by=None) -> QuerySet[PartyMember]:
    """Active members a wish of ``community`` may be dispatched to or taken by.

    Those registered (active) with the community, and those of a party organisation that
    covers a unit inside it. With ``fetched_by``, only the members that user may see.
    """
    registered = MemberRegistration.objects.filter(
        member=OuterRef("pk"), community_id=community.pk, status=RegistrationStatus.ACTIVE
    )
    members = PartyMember.objects.filter(is_active=True).filter(
        Q(Exists(registered)) | subtree_q(community, "organization__org_unit")
    )
    if fetched_by is not None:
        members = members.visible_to(fetched_by)
    return members.select_related("resident")


def member_summary(*, member: PartyMember, fetched_by) -> dict:
    """A party member's page: his registrations and claimed posts, wishes taken, services, hours, points.

    Raises ``PartyMember.DoesNotExist`` when the member is outside the user's scope. The
    services and totals are those the user may see (the community where a service was done,
    or the member's own branch); ``services`` is a queryset, newest first, to paginate.
    """
    member = (
        PartyMember.objects.visible_to(fetched_by)
        .select_related("resident__household", "organization__org_unit")
        .get(pk=member.pk)
    )
    registrations = list(
        MemberRegistration.objects.visible_to(fetched_by)
        .filter(member=member)
        .select_related("community")
        .prefetch_related("claims")
        .order_by("-registered_on", "-id")
    )
    active = next((r for r in registrations if r.status == RegistrationStatus.ACTIVE), None)
    services = ServiceRecord.objects.visible_to(fetched_by).filter(member=member)
    totals = services.aggregate(hours=Sum("hours"), points=Sum("points"), count=Count("pk"))
    return {
        "member": member,
        "registrations": registrations,
        "active_registration": active,
        "claimed_posts": list(active.claims.all()) if active else [],
        "wishes_taken": Wish.objects.visible_to(fetched_by)
        .filter(taken_by=member)
        .select_related("community", "household")
        .order_by("-taken_at"),
        "services": services.select_related("community", "wish").order_by("-date", "-start_time"),
        "services_count": totals["count"],
        "total_hours": totals["hours"] or Decimal("0"),
        "points": totals["points"] or 0,
    }


def _services_between(queryset, date_from: datetime.date | None, date_to: datetime.date | None):
    if date_from:
        queryset = queryset.filter(date__gte=date_from)
    if date_to:
        queryset = queryset.filter(date__lte=date_to)
    return queryset


def _points(queryset, group_by: str) -> list[dict]:
    return list(
        queryset.order_by()
        .values(group_by)
        .annotate(
            hours=Sum("hours"),
            points=Sum("points"),
            services=Count("pk"),
            members=Count("member", distinct=True),
        )
        .order_by("-points", group_by)
    )


def points_by_community(
    *, fetched_by, date_from: datetime.date | None = None, date_to: datetime.date | None = None
) -> list[dict]:
    """Hours and points served in each community of the user's scope (双积分, the home side).

    Rows ``{"community", "hours", "points", "services", "members"}``, most points first.
    """
    condition = scope_filter(fetched_by, "community")
    records = ServiceRecord.objects.all() if condition is None else ServiceRecord.objects.filter(condition)
    rows = _points(_services_between(records, date_from, date_to), "community")
    units = OrgUnit.objects.in_bulk([row["community"] for row in rows])
    return [{**row, "community": units[row["community"]]} for row in rows]


def points_by_branch(
    *, fetched_by, date_from: datetime.date | None = None, date_to: datetime.date | None = None
) -> list[dict]:
    """Hours and points of the members of each party organisation of the user's scope (双积分, the workplace side).

    A member's services count for his branch wherever he served. Rows
    ``{"organization", "hours", "points", "services", "members"}``, most points first.
    """
    condition = scope_filter(fetched_by, "member__organization__org_unit")
    records = ServiceRecord.objects.all() if condition is None else ServiceRecord.objects.filter(condition)
    rows = _points(_services_between(records, date_from, date_to), "member__organization")
    organizations = PartyOrganization.objects.select_related("org_unit").in_bulk(
        [row["member__organization"] for row in rows]
    )
    return [
        {
            "organization": organizations[row["member__organization"]],
            **{key: row[key] for key in ("hours", "points", "services", "members")},
        }
        for row in rows
    ]


def wish_board(*, fetched_by, community: OrgUnit | None = None, column_size: int = BOARD_COLUMN_SIZE) -> list[dict]:
    """The micro-wish board: one column per state, in the order of the flow (点单 … 晒单).

    Each column is ``{"state", "label", "count", "wishes", "more"}``: the newest
    ``column_size`` wishes of that state and how many more there are. Two queries whatever
    the number of wishes (the counts, then the columns ranked by a window function).
    """
    wishes = Wish.objects.visible_to(fetched_by)
    if community is not None:
        wishes = wishes.filter(subtree_q(community, "community"))
    counts = dict(wishes.order_by().values_list("state").annotate(n=Count("pk")))
    ranked = (
        wishes.annotate(
            rank=Window(RowNumber(), partition_by=F("state"), order_by=[F("posted_at").desc(), F("id").desc()])
        )
        .filter(rank__lte=column_size)
        .select_related("community", "household", "resident", "dispatched_to__resident", "taken_by__resident")
        .order_by("-posted_at", "-id")
    )
    by_state: dict[str, list[Wish]] = {state: [] for state in WISH_FLOW}
    if counts:
        for wish in ranked:
            by_state[wish.state].append(wish)
    return [
        {
            "state": state.value,
            "label": WishState(state).label,
            "count": counts.get(state, 0),
            "wishes": by_state[state],
            "more": counts.get(state, 0) - len(by_state[state]),
        }
        for state in WISH_FLOW
    ]


def organization_tree(*, organizations: QuerySet[PartyOrganization], fetched_by) -> QuerySet[PartyOrganization]:
    """``organizations`` in tree order, each with its kind's name, its unit and parent, and the active
    members ``fetched_by`` may see in it (``n_members``) and in its whole subtree (``n_members_below``).

    One query whatever the number of rows: the counts are correlated subqueries.
    """
    members = PartyMember.objects.visible_to(fetched_by).filter(is_active=True)
    below = members.filter(organization__tree_id=OuterRef("tree_id"), organization__lft__gte=OuterRef("lft"),
                           organization__lft__lt=OuterRef("rght"))
    names = PartyOrganizationKind.objects.filter(code=OuterRef("kind")).values("name")[:1]
    return (organizations.select_related("org_unit", "parent")
            .annotate(kind_name=Subquery(names), n_members=count_subquery(members.filter(organization=OuterRef("pk"))),
                      n_members_below=count_subquery(below))
            .order_by("tree_id", "lft"))


def organization_overview(*, organizations: QuerySet[PartyOrganization], kinds: list[tuple[str, str]], fetched_by,
                          within: OrgUnit | None = None) -> dict:
    """The counts above the organisation tree: organisations by kind (in the kinds' order, ``kinds`` being
    their (code, name) pairs), in all, the tree's top depth, and the party-member households of the area.

    Two queries: the organisations grouped by kind, the households counted.
    """
    rows = list(organizations.order_by().values("kind").annotate(n=Count("pk"), top=Min("mptt_level")))
    counts = {row["kind"]: row["n"] for row in rows}
    names = dict(kinds)
    by_kind = [{"code": code, "name": name, "count": counts[code]} for code, name in kinds if code in counts]
    by_kind += [{"code": code, "name": code, "count": n} for code, n in counts.items() if code not in names]
    households = CentralHousehold.objects.visible_to(fetched_by)
    if within is not None:
        households = households.filter(subtree_q(within, "household__grid"))
    return {
        "by_kind": by_kind,
        "total": sum(counts.values()),
        "top_depth": min((row["top"] for row in rows), default=0),
        "central_households": households.count(),
    }

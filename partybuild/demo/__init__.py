"""Demo party organisations, members, double report, micro-wishes and service records.

Plugged into ``seed_demo`` through governance's demo hooks (``register`` at the bottom): runs
after the households and residents are written, in the same transaction, and writes in bulk
with explicit ids. Everything is derived from the plan, the seed and the residents the seed
tagged 党员, so the same seed gives the same rosters; dates count back from the demo's last
day (``ctx.as_of``, the day before the one seeded for), never from the clock.

- Organisations: the county (city) party committee; per county a 机关工委 with the party
  branches of the county's agencies; per township a 党委 (a 街道党工委 for a subdistrict) →
  per village/community a 党支部 (where members are many, a 党总支 — a 社区党委 in a
  subdistrict — with numbered 党支部) → 网格党支部 for grids with enough members →
  楼栋/庭院党小组 per micro-grid in communities. The kinds are the default ones, seeded if missing.
- Members: every resident tagged 党员 (about 7.5% of adults); exactly ``IN_SERVICE_SHARE``
  of them in service with a county agency (townspeople more often), some probationary
  (joined in the last year), some mobile (working away).
- 党员中心户: the households tagged so, run by their head (a member).
- Double report: each agency registers with the community it sits in (some also with a
  paired village), with resource/need/project entries; most in-service members register
  with the community they live in and claim one to three of the six posts.
- A year of micro-wishes per community (mostly from dibao, elderly, disabled and left-behind
  households), older ones further along the six steps, each step recorded (without an
  author), and about 18 services a year for each volunteer (registered in-service members
  and a share of the others): 0.5-4 hours on the half hour, never overlapping for one member
  on one day, hours and points by the rule of ``partybuild.services``; a finished wish has
  the service of the member who took it.

The parts: ``members`` (members, organisations, party-member households), ``registrations``
(the double report) and ``wishes`` (wishes and services).
"""

from django.db import connection

from governance.demo.hooks import DemoContext, register
from governance.tree import tree_write_lock
from partybuild.demo.members import (
    build_organizations,
    decide_members,
    load_members,
    write_central_households,
    write_members,
    write_organizations,
)
from partybuild.demo.registrations import write_member_registrations, write_unit_registrations
from partybuild.demo.wishes import write_wishes_and_services
from partybuild.kinds import seed_kinds
from partybuild.models import (
    CentralHousehold,
    MemberRegistration,
    PartyMember,
    PartyOrganization,
    PartyOrganizationKind,
    PostClaim,
    ServiceRecord,
    UnitOffer,
    UnitRegistration,
    Wish,
    WishEvent,
)

# Parents before children: the seed writes them in this order, the reset deletes them in the reverse.
MODELS = (
    PartyOrganization, PartyMember, CentralHousehold, UnitRegistration, UnitOffer, MemberRegistration, PostClaim,
    Wish, WishEvent, ServiceRecord,
)


def seed(ctx: DemoContext) -> None:
    today = ctx.as_of.toordinal()
    units = {u.pk: u for u in ctx.plan.units}
    with ctx.step("party members"):
        members = load_members(ctx, units)
        decide_members(ctx, members, today)
        with tree_write_lock(PartyOrganization.tree_lock_key):
            seed_kinds(PartyOrganizationKind)  # a database emptied by a test has none
            root, agencies = build_organizations(ctx, members)
            write_organizations(ctx, root)
        write_members(ctx, members)
        write_central_households(ctx, members, today)
    with ctx.step("double report"):
        write_unit_registrations(ctx, agencies, today)
        write_member_registrations(ctx, members, today)
    with ctx.step("wishes and services"):
        write_wishes_and_services(ctx, members, today)


def reset() -> None:
    """Delete every row of the app's models, children first, one statement each."""
    with connection.cursor() as cursor:
        for model in reversed(MODELS):
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")


register(seed=seed, reset=reset, models=MODELS)

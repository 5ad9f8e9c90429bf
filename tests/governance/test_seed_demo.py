"""seed_demo: deterministic, valid demo data; the county and city shapes checked on the plan."""

import datetime
import hashlib
import json
import os
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.db.models import NOT_PROVIDED
from django.test import RequestFactory
from django.utils import timezone, translation

from governance.demo import DEFAULT_PASSWORD, DEMO_USERNAMES, make_plan, seed_demo
from governance.demo.people import HOUSEHOLD_COLUMNS, RESIDENT_COLUMNS
from governance.demo.plan import GRID_SPREAD, MICRO_GRID_SPREAD
from governance.models import (
    KINDS_BY_LEVEL,
    Household,
    Kind,
    Level,
    OrgUnit,
    Relation,
    Resident,
    Role,
    Tag,
    User,
    division_code_error,
    level_error,
)
from governance.validators import parse_id_number, validate_phone
from tests.helpers.markers import on_postgres

# The day the tests seed for (the same numbers whenever they run); the records run up to the day before.
TODAY = datetime.date(2025, 7, 1)
ROOT = Path(__file__).resolve().parents[2]


def demo_digest(ids: bool = True) -> dict[str, str]:
    """A hash of every row of every table the demo fills (all columns but automatic timestamps), by
    model; ``ids`` False leaves out primary and foreign keys (a reset does not start them over)."""
    from governance.demo.hooks import contributors

    models = [OrgUnit, Household, Resident, Household.tags.through, Resident.tags.through]
    models += [model for contributor in contributors() for model in contributor.models]
    digest = {}
    for model in models:
        columns = [f.attname for f in model._meta.concrete_fields
                   if not getattr(f, "auto_now", False) and not getattr(f, "auto_now_add", False)
                   and (ids or not (f.primary_key or f.is_relation))]
        rows = hashlib.sha256()
        if not columns:  # a link table without its keys: how many links
            rows.update(repr(model._base_manager.count()).encode())
        for row in model._base_manager.order_by("pk").values_list(*columns) if columns else ():
            rows.update(repr(row).encode())
        digest[model._meta.label] = rows.hexdigest()
    return digest


def _snapshot():
    """What must not change between two seeds with the same seed number."""
    return {
        "units": sorted(OrgUnit.objects.values_list("code", "name", "short_name", "level", "kind")),
        "households": sorted(Household.objects.values_list("number", "address", "grid__code")),
        "residents": sorted(
            Resident.objects.values_list("id_number", "name", "phone", "relation", "household__number")
        ),
        "tags": sorted(Household.tags.through.objects.values_list("household__number", "tag__code")),
    }


def _check_plan_tree(plan):
    """Codes, levels and kinds follow the model's rules; MPTT numbers nest and cover 1..2n."""
    for unit in plan.units:
        parent = unit.parent
        assert level_error(unit.level, parent.level if parent else None) is None, unit.code
        assert division_code_error(unit.level, unit.code, parent.code if parent else None) is None, unit.code
        assert unit.kind in KINDS_BY_LEVEL[unit.level], unit.code
        assert unit.name and len(unit.name) <= 100
        if parent:
            assert parent.lft < unit.lft < unit.rght < parent.rght
            assert unit.depth == parent.depth + 1
    assert len({u.code for u in plan.units}) == len(plan.units)
    numbers = sorted([u.lft for u in plan.units] + [u.rght for u in plan.units])
    assert numbers == list(range(1, 2 * len(plan.units) + 1))


# --- the plan (no database) -----------------------------------------------------------


def test_county_plan_is_shaped_like_dechang():
    plan = make_plan("county", seed=1)
    counts = plan.count_by_level()
    assert counts == {"city": 0, "county": 1, "township": 14, "village": 73, "grid": 138, "micro_grid": 2218}
    assert plan.households == 70_000
    assert plan.root.code == "513424000000"
    _check_plan_tree(plan)

    township_kinds = Counter(u.kind for u in plan.units if u.level == Level.TOWNSHIP)
    assert set(township_kinds) == {Kind.TOWN, Kind.TOWNSHIP, Kind.SUBDISTRICT}
    for unit in plan.units:
        if unit.level == Level.TOWNSHIP:
            assert unit.name.endswith({Kind.TOWN: "镇", Kind.TOWNSHIP: "乡", Kind.SUBDISTRICT: "街道"}[unit.kind])
        if unit.level == Level.VILLAGE:
            if unit.kind == Kind.VILLAGE:
                assert unit.name == unit.short_name + "村民委员会" and unit.short_name.endswith("村")
                assert unit.code[9] in "23"  # 村民委员会: 200-399
            else:
                assert unit.name == unit.short_name + "居民委员会" and unit.short_name.endswith("社区")
                assert unit.code[9] in "01"  # 居民委员会: 001-199
            if unit.parent.kind == Kind.TOWNSHIP:
                assert unit.kind == Kind.VILLAGE  # a 乡 has villages only
    grid_kinds = {u.kind for u in plan.units if u.level == Level.GRID}
    assert grid_kinds == KINDS_BY_LEVEL[Level.GRID]  # the five grid types and the standard grid

    # Every grid has micro-grids, which hold the households: 10-50 each, give or take.
    assert all(leaf.level == Level.MICRO_GRID for leaf in plan.leaves)
    per_micro_grid = [leaf.households for leaf in plan.leaves]
    assert 20 <= sum(per_micro_grid) / len(per_micro_grid) <= 45
    assert min(per_micro_grid) >= 5 and max(per_micro_grid) <= 80


def test_city_plan_matches_its_spec():
    plan = make_plan("city", seed=1)
    counts = plan.count_by_level()
    assert counts["city"] == 1 and counts["county"] == 6 and counts["township"] == 80
    assert counts["village"] == 1700
    assert counts["grid"] + counts["micro_grid"] == 15_000
    assert plan.households == 1_000_000
    assert plan.root.code == "140500000000" and plan.root.level == Level.CITY and plan.root.kind == Kind.CITY
    _check_plan_tree(plan)
    # Some counties stop at grids: their households hang directly under a grid.
    assert {leaf.level for leaf in plan.leaves} == {Level.GRID, Level.MICRO_GRID}
    assert len({u.short_name for u in plan.units if u.level == Level.VILLAGE}) == 1700
    assert plan.users["admin"][1] is plan.root


def test_plan_is_deterministic_and_seed_dependent():
    def names(plan):
        return [(u.code, u.name, u.kind, u.households) for u in plan.units]

    assert names(make_plan("county", seed=5)) == names(make_plan("county", seed=5))
    assert names(make_plan("county", seed=5)) != names(make_plan("county", seed=6))


def test_every_grid_and_micro_grid_has_a_centroid_near_its_parent():
    """Open311 files a report by lat/long in the grid or micro-grid with the nearest centroid."""
    plan = make_plan("county", seed=1)
    placed = [u for u in plan.units if u.level in (Level.GRID, Level.MICRO_GRID)]
    assert len(placed) == 138 + 2218
    for unit in placed:
        reach = GRID_SPREAD if unit.level == Level.GRID else MICRO_GRID_SPREAD
        assert abs(unit.latitude - unit.parent.latitude) <= reach + 1e-6, unit.code
        assert abs(unit.longitude - unit.parent.longitude) <= reach + 1e-6, unit.code
    assert len({(u.latitude, u.longitude) for u in placed}) == len(placed)


def test_demo_users_sit_where_the_story_needs_them():
    plan = make_plan("county", seed=1)
    assert tuple(plan.users) == DEMO_USERNAMES
    role_of = {name: role for name, (role, _) in plan.users.items()}
    assert role_of == {
        "admin": Role.ADMIN, "county": Role.COUNTY, "township_a": Role.TOWNSHIP,
        "township_b": Role.TOWNSHIP, "village_a": Role.VILLAGE, "grid_a": Role.GRID,
    }
    unit = {name: u for name, (_, u) in plan.users.items()}
    assert unit["admin"] is unit["county"] is plan.root
    assert unit["township_a"] is not unit["township_b"]
    assert unit["township_a"].level == unit["township_b"].level == Level.TOWNSHIP
    assert unit["village_a"].parent is unit["township_a"]
    assert unit["village_a"] is min(
        (u for u in unit["township_a"].children if u.kind == Kind.VILLAGE), key=lambda u: u.code
    )
    assert unit["grid_a"].parent is unit["village_a"]


def test_raw_insert_columns_cover_every_not_null_column():
    """The seed writes households and residents with raw INSERT/COPY: a new NOT NULL column
    without a database default must be added to its column list (and rows) too."""
    for model, columns in ((Household, HOUSEHOLD_COLUMNS), (Resident, RESIDENT_COLUMNS)):
        not_null = {
            f.column for f in model._meta.concrete_fields if not f.null and f.db_default is NOT_PROVIDED
        }
        assert not_null == set(columns), model


# --- seeding the database ------------------------------------------------------------


@pytest.fixture
def seeded(db):
    result = seed_demo(scale="small", seed=1, today=TODAY)
    assert not result.skipped
    return result


def test_small_seed_writes_what_the_plan_says(seeded):
    plan = make_plan("small", seed=1)
    db_counts = Counter(OrgUnit.objects.values_list("level", flat=True))
    assert {level: db_counts.get(level, 0) for level in plan.count_by_level()} == plan.count_by_level()
    assert Household.objects.count() == plan.households == seeded.households
    assert Resident.objects.count() == seeded.residents
    assert 2.3 <= seeded.residents / seeded.households <= 3.3
    assert seeded.rows == (
        OrgUnit.objects.count() + Household.objects.count() + Resident.objects.count()
        + Household.tags.through.objects.count() + Resident.tags.through.objects.count()
        + Tag.objects.count() + User.objects.count() + sum(seeded.rosters.values())
    )


def test_every_unit_passes_full_clean_and_the_tree_equals_a_rebuild(seeded):
    units = list(OrgUnit.objects.select_related("parent"))
    for unit in units:
        unit.full_clean()
    written = {u.pk: (u.lft, u.rght, u.tree_id, u.mptt_level) for u in units}
    OrgUnit.objects.rebuild()
    rebuilt = {u.pk: (u.lft, u.rght, u.tree_id, u.mptt_level) for u in OrgUnit.objects.all()}
    assert rebuilt == written
    county = OrgUnit.objects.get(level=Level.COUNTY)
    assert county.get_descendant_count() == len(units) - 1
    for unit in units:
        if unit.parent:
            assert unit.parent.lft < unit.lft < unit.rght < unit.parent.rght


def test_people_are_valid_and_consistent(seeded):
    residents = list(Resident.objects.all())
    for resident in residents:
        birth_date, sex = parse_id_number(resident.id_number)
        assert (resident.birth_date, resident.sex) == (birth_date, sex)
        assert resident.id_number.startswith("513424")
        if resident.phone:
            validate_phone(resident.phone)
        assert 2 <= len(resident.name) <= 3
    phones = [r.phone for r in residents if r.phone]
    assert len(set(phones)) == len(phones)
    assert len({r.id_number for r in residents}) == len(residents)

    by_household = defaultdict(list)
    for resident in residents:
        by_household[resident.household_id].append(resident)
    assert set(by_household) == set(Household.objects.values_list("pk", flat=True))
    for members in by_household.values():
        relations = Counter(r.relation for r in members)
        assert 1 <= len(members) <= 6
        assert relations[Relation.HEAD] == 1
        assert relations[Relation.SPOUSE] <= 1 and relations[Relation.PARENT] <= 2
        head = next(r for r in members if r.relation == Relation.HEAD)
        for member in members:
            if member.relation == Relation.SPOUSE:
                assert member.sex != head.sex
            if member.relation == Relation.CHILD:
                assert member.birth_date > head.birth_date
            if member.relation == Relation.PARENT:
                assert member.birth_date < head.birth_date

    for household in Household.objects.select_related("grid"):
        assert household.grid.level in (Level.GRID, Level.MICRO_GRID)
        assert household.number.startswith(household.grid.code)
        assert household.address.startswith("德昌县")


def test_tags_exist_with_low_frequencies(seeded):
    household_tags = set(Tag.objects.filter(applies_to=Tag.AppliesTo.HOUSEHOLD).values_list("code", flat=True))
    resident_tags = set(Tag.objects.filter(applies_to=Tag.AppliesTo.RESIDENT).values_list("code", flat=True))
    assert household_tags == {"dibao", "elderly_alone", "left_behind_child", "disabled", "party_household", "rental"}
    assert resident_tags == {"party_member", "veteran", "disabled_person", "dibao_member"}
    assert Tag.objects.get(code="dibao").name == "低保户"
    # Tags go on the matching kind of row only, and no code is on most households.
    assert not Household.tags.through.objects.filter(tag__applies_to=Tag.AppliesTo.RESIDENT).exists()
    assert not Resident.tags.through.objects.filter(tag__applies_to=Tag.AppliesTo.HOUSEHOLD).exists()
    for code, count in Counter(Household.tags.through.objects.values_list("tag__code", flat=True)).items():
        assert count < seeded.households / 3, code


def test_demo_users_exist_and_can_log_in(seeded):
    users = {u.username: u for u in User.objects.select_related("home_unit__parent")}
    staff = {name: users.pop(name) for name in list(users) if name.startswith("village_5")}
    assert set(users) == {"admin", "county", "township_a", "township_b", "village_a", "grid_a"}
    # People are named (listed by name, not login), and every village of township A has an account,
    # so a case can be dispatched to any of them.
    assert users["township_a"].get_full_name() == "张丽" and users["grid_a"].get_full_name() == "杨波"
    villages_a = set(users["township_a"].home_unit.children.values_list("pk", flat=True))
    assert {u.home_unit_id for u in staff.values()} | {users["village_a"].home_unit_id} == villages_a
    assert all(u.role == Role.VILLAGE and u.get_full_name() for u in staff.values())
    assert users["admin"].role == Role.ADMIN and users["admin"].is_superuser
    assert users["admin"].home_unit.level == Level.COUNTY
    assert users["county"].role == Role.COUNTY and users["county"].home_unit.level == Level.COUNTY
    assert not users["county"].is_superuser
    assert users["township_a"].role == users["township_b"].role == Role.TOWNSHIP
    assert users["township_a"].home_unit != users["township_b"].home_unit
    assert users["village_a"].role == Role.VILLAGE
    assert users["village_a"].home_unit.parent == users["township_a"].home_unit
    assert users["grid_a"].role == Role.GRID
    assert users["grid_a"].home_unit.parent == users["village_a"].home_unit
    assert users["grid_a"].home_unit.level == Level.GRID
    for user in users.values():
        # The admin is for those who keep rosters; everyone chooses his own password first outside demo mode.
        assert user.is_staff == (user.role in (Role.ADMIN, Role.TOWNSHIP, Role.COUNTY)) and user.is_active
        assert user.must_change_password
        assert user.check_password(DEFAULT_PASSWORD)
        user.full_clean()
    request = RequestFactory().post("/login/")
    assert authenticate(request, username="village_a", password=DEFAULT_PASSWORD) == users["village_a"]
    assert authenticate(request, username="village_a", password="wrong") is None


def test_same_seed_same_data_other_seed_other_data(db):
    seed_demo(scale="small", seed=7, today=TODAY)
    first = _snapshot()
    assert seed_demo(scale="small", seed=7, today=TODAY, reset=True).households == 100
    assert _snapshot() == first
    seed_demo(scale="small", seed=8, today=TODAY, reset=True)
    other = _snapshot()
    assert other["units"] != first["units"]
    assert {r[1] for r in other["residents"]} != {r[1] for r in first["residents"]}
    assert {r[0] for r in other["residents"]} != {r[0] for r in first["residents"]}


def test_same_seed_and_day_give_the_same_rows_another_day_moves_the_dates(db):
    seed_demo(scale="small", seed=7, today=TODAY)
    first = demo_digest(ids=False)
    place = _snapshot()
    seed_demo(scale="small", seed=7, today=TODAY, reset=True)
    assert demo_digest(ids=False) == first

    from grid.models import Case

    later = datetime.date(2025, 10, 15)
    seed_demo(scale="small", seed=7, today=later, reset=True)
    # The same place and households, their people's birth dates and the cases counted from the other day.
    assert _snapshot()["units"] == place["units"] and _snapshot()["households"] == place["households"]
    moved = demo_digest(ids=False)
    assert moved["governance.Resident"] != first["governance.Resident"] and moved["grid.Case"] != first["grid.Case"]
    newest = timezone.localtime(Case.objects.latest("reported_at").reported_at).date()
    assert newest == datetime.date(2025, 10, 14)
    assert Resident.objects.latest("birth_date").birth_date <= newest


@pytest.mark.skipif(on_postgres, reason="seeds its own SQLite files: runs once, in the SQLite run")
def test_two_processes_seed_the_same_rows_into_two_databases(tmp_path):
    """The same --seed and --today give the same rows in another process and database, whatever the
    order Python iterates sets and dicts of strings in (its hash seed)."""
    script = (
        "import json, django; django.setup()\n"
        "from django.core.management import call_command\n"
        "call_command('migrate', verbosity=0)\n"
        "call_command('seed_demo', '--scale', 'small', '--seed', '5', '--today', '2025-07-01', '--no-rollup',"
        " verbosity=0)\n"
        "from tests.governance.test_seed_demo import demo_digest\n"
        "print(json.dumps(demo_digest()))\n"
    )
    children = []
    for hash_seed in ("1", "2"):
        env = dict(os.environ, DJANGO_SETTINGS_MODULE="tests.settings", PYTHONHASHSEED=hash_seed,
                   DATABASE_URL=f"sqlite:///{tmp_path / f'demo-{hash_seed}.sqlite3'}")
        children.append(subprocess.Popen([sys.executable, "-c", script], env=env, cwd=str(ROOT),
                                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    digests = []
    for child in children:
        out, err = child.communicate(timeout=300)
        assert child.returncode == 0, err[-3000:]
        digests.append(json.loads(out.strip().splitlines()[-1]))
    assert digests[0] == digests[1]
    assert len(digests[0]) >= 20 and "grid.Case" in digests[0]


def test_seed_skips_a_database_that_has_units(seeded):
    again = seed_demo(scale="small", seed=2, today=TODAY)
    assert again.skipped
    assert Household.objects.count() == seeded.households


def test_reset_keeps_users_without_a_unit(seeded):
    outsider = User.objects.create_user(username="root", password="x", is_superuser=True, is_staff=True)
    seed_demo(scale="small", seed=3, today=TODAY, reset=True)
    assert User.objects.filter(pk=outsider.pk).exists()
    # The six demo logins and the village account of township A's other village.
    assert User.objects.filter(home_unit__isnull=False).count() == 7


def test_command_prints_summary_and_logins_then_skips(db, capsys, tmp_path):
    stats = tmp_path / "stats.json"
    call_command("seed_demo", "--scale", "small", "--today", "2025-07-01", "--password", "other-demo-pw",
                 "--stats-file", str(stats))
    out = capsys.readouterr().out
    for username in ("admin", "county", "township_a", "township_b", "village_a", "grid_a"):
        assert username in out
    assert "other-demo-pw" in out
    assert User.objects.get(username="grid_a").check_password("other-demo-pw")
    data = json.loads(stats.read_text())
    assert data["households"] == 100
    assert data["units"] == make_plan("small").count_by_level()

    with translation.override("en"):
        call_command("seed_demo", "--scale", "small", "--today", "2025-07-01")
    out = capsys.readouterr().out
    assert "already exist" in out
    assert "township_b" in out  # the logins are shown again for `make run`


@pytest.fixture
def demo_mode(settings):
    """The demo as `make run` serves it (DEMO_MODE=1): its users keep the printed password."""
    settings.DEMO_MODE = True


def test_the_demo_opens_on_dashboards_with_figures(db, client, demo_mode):
    """seed_demo computes the indicators of the thirteen complete months before today's: the county's
    dashboard opens on last month with its figures, households included (the demo's people were
    entered before its history)."""
    from governance.models import IndicatorValue, RollupRun

    call_command("seed_demo", "--scale", "small", "--today", "2025-07-01")
    assert RollupRun.objects.filter(status="complete").count() == 13
    county = User.objects.get(username="county")
    client.force_login(county, backend="django.contrib.auth.backends.ModelBackend")
    response = client.get("/dashboard/")
    assert response.context["period"].first == datetime.date(2025, 6, 1)
    households = next(row for row in response.context["kpis"] if row.key == "households")
    assert households.current.value == 100
    first = datetime.date(2024, 6, 1)
    assert IndicatorValue.objects.filter(period=first, org_unit=county.home_unit, key="households",
                                         value=100).exists()
    # The same month a year before has cases to compare with too.
    assert IndicatorValue.objects.filter(period=first, org_unit=county.home_unit, key="grid.cases_raised",
                                         value__gt=0).exists()


def test_the_demo_lives_in_the_present(db, client, demo_mode):
    """Seeded without --today, the demo's records run up to yesterday, the cases still open are
    recent and only a few of them overdue now, and the dashboard opens on last month."""
    from governance.demo.dates import last_complete_month
    from grid.models import FINAL_STATES, Case
    from grid.selectors.cases import case_overdue_q

    call_command("seed_demo", "--scale", "small")
    today = timezone.localdate()
    newest = timezone.localtime(Case.objects.latest("reported_at").reported_at).date()
    assert newest == today - datetime.timedelta(days=1)
    still_open = Case.objects.exclude(state__in=FINAL_STATES)
    assert still_open.count() >= 20
    assert not still_open.filter(reported_at__lt=timezone.now() - datetime.timedelta(days=60)).exists()
    # Overdue as the case list shows it, by the clock: a realistic few (the frozen demo had them all).
    assert 0 < 3 * still_open.filter(case_overdue_q()).count() < still_open.count()
    client.force_login(User.objects.get(username="county"), backend="django.contrib.auth.backends.ModelBackend")
    assert client.get("/dashboard/").context["period"].first == last_complete_month(today)


def test_today_must_be_a_date(db):
    with translation.override("en"), pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("seed_demo", "--scale", "small", "--today", "2025-13-01")
    assert not OrgUnit.objects.exists()


def test_seed_without_rollup_leaves_the_indicators_to_compute(db):
    from governance.models import IndicatorValue

    call_command("seed_demo", "--scale", "small", "--today", "2025-07-01", "--no-rollup")
    assert not IndicatorValue.objects.exists()
    assert Household.objects.count() == 100


def test_demo_clerk_can_work_in_the_admin_on_his_township_only(seeded, client, demo_mode):
    clerk = User.objects.get(username="township_a")
    assert clerk.has_perm("governance.change_household")
    assert not clerk.has_perm("governance.delete_orgunit")
    client.force_login(clerk, backend="django.contrib.auth.backends.ModelBackend")
    response = client.get("/admin/governance/household/")
    assert response.status_code == 200
    shown = response.context["cl"].result_count
    assert shown == Household.objects.visible_to(clerk).count() > 0
    assert shown < Household.objects.count()


# --- the apps' demo hooks (rosters) ---------------------------------------------------


def test_apps_contribute_in_installed_apps_order():
    from governance.demo.hooks import contributors

    labels = [c.app_label for c in contributors()]
    # partybuild's members exist before grid links its workers to them; resets run in reverse.
    assert labels.index("partybuild") < labels.index("grid")
    assert "governance" not in labels


def test_rosters_are_counted_in_the_result_and_the_stats(db, capsys, tmp_path):
    stats = tmp_path / "stats.json"
    with translation.override("en"):
        call_command("seed_demo", "--scale", "small", "--today", "2025-07-01", "--stats-file", str(stats))
    out = capsys.readouterr().out
    data = json.loads(stats.read_text())
    from grid.models import GridWorker
    from partybuild.models import PartyMember

    assert data["rosters"]["partybuild.PartyMember"] == PartyMember.objects.count() > 0
    assert data["rosters"]["grid.GridWorker"] == GridWorker.objects.count() > 0
    assert "Party members" in out and "Grid workers" in out


def test_reset_clears_the_rosters_too(seeded):
    from grid.models import GridWorker, LiaisonHousehold
    from partybuild.models import PartyMember, ServiceRecord, Wish

    before = {m: m.objects.count() for m in (GridWorker, LiaisonHousehold, PartyMember, Wish, ServiceRecord)}
    assert all(before.values())
    result = seed_demo(scale="small", seed=2, today=TODAY, reset=True)
    assert not result.skipped
    for model in before:  # replaced by the new seed's rows, not added to
        assert model.objects.count() == result.rosters[model._meta.label]
    assert not GridWorker.objects.exclude(unit__in=OrgUnit.objects.all()).exists()


def test_reset_refuses_while_a_unit_user_is_protected_by_other_rows(seeded):
    from governance.demo import ResetRefused
    from governance.models import ExportLog

    ExportLog.objects.create(user=User.objects.get(username="county"), kind="residents", rows=1,
                             with_personal_data=False)
    with pytest.raises(ResetRefused, match="ExportLog"):
        seed_demo(scale="small", seed=2, today=TODAY, reset=True)


def test_outside_demo_mode_a_demo_user_first_changes_the_printed_password(seeded, client, settings):
    settings.DEMO_MODE = False
    response = client.post("/login/", {"username": "township_a", "password": DEFAULT_PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == "/account/password/"
    settings.DEMO_MODE = True
    assert client.get("/org/households/").status_code == 200

"""The scope rule on every scoped model: township A and township B never see each other.

The walk covers every model that declares ``org_scope_field``, so a new county-data
model is covered as soon as it is scoped (and governance.E001 refuses one that is not).
The cast must give each scoped model at least one row in each township: the test fails
when a new model has no sample, so nobody can add a model without covering it here.
"""

import datetime

import pytest

from governance.scope import scoped_models


@pytest.fixture
def everyone(county, other_county, django_user_model, admin_user, county_official, clerk_a, clerk_b, village_a,
             grid_worker_a):
    from governance.models import ExportLog, Notification
    from grid.models import Open311Client

    for n, user in enumerate((clerk_a, clerk_b, village_a, grid_worker_a)):
        ExportLog.objects.create(user=user, kind="residents", rows=1, with_personal_data=True)
        Notification.objects.create(user=user, text="新事件")
        Open311Client.objects.create(name=f"client {n}", user=user, key_hash=f"{n:064d}", key_prefix=f"{n:08d}")
    from django.utils import timezone

    from governance.indicators.engine import rollup_month
    from governance.indicators.months import month_start
    from governance.models import IndicatorTarget
    from grid.models import Case

    Case.objects.update(resolved_at=timezone.now())  # a median of the month, and of its quarter (PeriodValue)
    for township in (*county.townships, *other_county.townships):
        rollup_month(month_start(datetime.date.today()), org=township)
        IndicatorTarget.objects.create(unit=township, key="grid.closure_rate_to_date", value=90)  # its own target
    from tests.helpers.ledger import add_books

    bookkeeper = django_user_model.objects.create_user(username="bookkeeper", password="x")  # no home unit
    add_books([*county.villages, *other_county.villages], preparer=bookkeeper, reviewer=admin_user)
    from tests.helpers.registers import add_county_rules, add_registers

    add_registers([*county.villages, *other_county.villages], admin_user)
    add_county_rules([county.county, other_county.county])
    names = {"ExportLog", "Notification", "Open311Client", "user", "n", "township", "month_start", "rollup_month",
             "timezone", "Case", "IndicatorTarget", "add_books", "bookkeeper", "add_registers", "add_county_rules",
             "django_user_model"}
    return {k: v for k, v in locals().items() if k not in names}


# A county's own settings (the payment threshold and quorums of village decisions, its local project
# categories) live at the county: a township sees none of them, the county official his county's only.
COUNTY_LEVEL = {"collective_economy.DecisionRules", "collective_economy.StepQuorum",
                "collective_economy.ProjectCategory"}
TOWNSHIP_AND_BELOW = [m for m in scoped_models() if m._meta.label not in COUNTY_LEVEL]
# The audit trail is for administrators only (governance.audit.selectors.can_read_trail: anyone else gets a
# 403, tests/governance/test_audit_pages.py), not limited by org scope: its events keep a unit id only to
# filter by township, and no FK, so they outlive the units, users and objects they name.
ADMIN_ONLY = {"governance.AuditEvent"}


def test_the_admin_only_trail_is_not_scoped_by_unit():
    assert not {model._meta.label for model in scoped_models()} & ADMIN_ONLY


def ids(model, user):
    return set(model.objects.visible_to(user).values_list("pk", flat=True))


@pytest.mark.parametrize("model", TOWNSHIP_AND_BELOW, ids=lambda m: m._meta.label)
def test_township_clerks_see_nothing_of_each_other(model, everyone):
    a, b = everyone["clerk_a"], everyone["clerk_b"]
    seen_by_a, seen_by_b = ids(model, a), ids(model, b)
    assert seen_by_a, f"the cast has no {model.__name__} in township A: add one to tests/conftest.py"
    assert seen_by_b, f"the cast has no {model.__name__} in township B: add one to tests/conftest.py"
    assert not seen_by_a & seen_by_b


@pytest.mark.parametrize("model", scoped_models(), ids=lambda m: m._meta.label)
def test_county_official_sees_both_townships_but_not_the_other_county(model, everyone):
    official = everyone["county_official"]
    both = ids(model, everyone["clerk_a"]) | ids(model, everyone["clerk_b"])
    seen = ids(model, official)
    assert both <= seen
    # Rows of the other county: everything an all-seeing operator sees minus this county's.
    other_rows = set(model.objects.values_list("pk", flat=True)) - seen
    # The other county has no staff in the cast, so nothing that belongs to a user.
    if model.__name__ not in {"User", "ExportLog", "Notification", "Open311Client"}:
        assert other_rows, f"the cast has no {model.__name__} in the other county"
    assert not other_rows & seen


@pytest.mark.parametrize("model", [m for m in scoped_models() if m._meta.label in COUNTY_LEVEL],
                         ids=lambda m: m._meta.label)
def test_county_settings_are_seen_by_their_county_only(model, everyone):
    official = everyone["county_official"]
    assert not ids(model, everyone["clerk_a"]) and not ids(model, everyone["clerk_b"])
    seen = ids(model, official)
    assert seen, f"the cast has no {model.__name__} in the county"
    assert set(model.objects.values_list("pk", flat=True)) - seen, f"the cast has no {model.__name__} elsewhere"
    counties = {row.county_id if hasattr(row, "county_id") else row.rules.county_id
                for row in model.objects.visible_to(official)}
    assert counties == {official.home_unit_id}


@pytest.mark.parametrize("model", scoped_models(), ids=lambda m: m._meta.label)
def test_lower_levels_see_only_their_own_branch(model, everyone):
    village, grid = everyone["village_a"], everyone["grid_worker_a"]
    assert ids(model, grid) <= ids(model, village) <= ids(model, everyone["clerk_a"])
    assert not ids(model, village) & ids(model, everyone["clerk_b"])


def test_a_user_without_home_unit_sees_nothing_unless_operator(county, django_user_model):
    from governance.models import OrgUnit

    nobody = django_user_model.objects.create_user(username="nobody", password="x", role="township")
    operator = django_user_model.objects.create_superuser(username="root", password="x")
    assert not OrgUnit.objects.visible_to(nobody).exists()
    assert OrgUnit.objects.visible_to(operator).count() == OrgUnit.objects.count()


def test_an_inactive_user_sees_nothing(county, clerk_a):
    from governance.models import OrgUnit

    clerk_a.is_active = False
    assert not OrgUnit.objects.visible_to(clerk_a).exists()


def test_every_model_holding_county_data_is_scoped():
    from django.core import checks

    assert [e for e in checks.run_checks() if e.id == "governance.E001"] == []
    labels = {m._meta.label for m in scoped_models()}
    assert {"governance.OrgUnit", "governance.Household", "governance.Resident", "governance.User",
            "partybuild.WishEvent"} <= labels

"""The collective economy's demo (seed_demo): every demo village has a book that balances, last year closed,
this year's months before the current one closed, and operating incomes in several bands; registers (contracts,
assets on the fixed-asset account, resources, receivables and debts, projects) and decisions, which every payment
above the threshold cites; one village decides in six steps."""

import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.db.models import Count, Sum

from collective_economy import indicators as ce
from collective_economy.models import (
    RESOLVED_STATES,
    SIX_STEPS,
    Asset,
    Book,
    BookYear,
    Contract,
    ContractPayment,
    DebtRecord,
    DebtSettlement,
    Decision,
    DecisionState,
    EconomicOrganisation,
    OpeningBalance,
    Period,
    Project,
    ProjectCategory,
    Resource,
    Step,
    VillageDecisionSetting,
    Voucher,
    VoucherLine,
)
from collective_economy.selectors.cleanup import overdue_instalments
from collective_economy.selectors.projects import project_income
from collective_economy.services.decisions import payment_needs_decision, village_households
from governance.demo import seed_demo
from governance.indicators.engine import rollup_month
from governance.models import Level, OrgUnit, User
from governance.validators import validate_credit_code
from tests.helpers.indicators import number

CENT = Decimal("0.01")  # SQLite adds decimals as floating point: compare to the fen
TODAY = datetime.date(2025, 7, 1)  # the records run up to 2025-06-30: June is the current month
JUNE = datetime.date(2025, 6, 1)


@pytest.fixture
def seeded(db):
    return seed_demo(scale="small", seed=1, today=TODAY)


def test_every_village_has_an_organisation_and_a_book_that_balances(seeded):
    villages = set(OrgUnit.objects.filter(level=Level.VILLAGE).values_list("pk", flat=True))
    assert villages and set(Book.objects.values_list("village", flat=True)) == villages
    for organisation in EconomicOrganisation.objects.all():
        validate_credit_code(organisation.credit_code)
    led = EconomicOrganisation.objects.filter(party_led=True).count()
    assert 0 < led < len(villages)
    for book_year in BookYear.objects.all():
        lines = VoucherLine.objects.filter(voucher__book_year=book_year, voucher__status="posted").aggregate(
            debit=Sum("debit"), credit=Sum("credit"))
        opening = OpeningBalance.objects.filter(book_year=book_year).aggregate(debit=Sum("debit"), credit=Sum("credit"))
        assert lines["debit"].quantize(CENT) == lines["credit"].quantize(CENT)
        assert opening["debit"].quantize(CENT) == opening["credit"].quantize(CENT) > 0
    # The 2023 rules for 2024 and 2025.
    assert set(BookYear.objects.values_list("year", "chart__code")) == {(2024, "2023"), (2025, "2023")}


def test_last_year_is_closed_and_this_year_is_open_in_its_current_month(seeded):
    assert set(BookYear.objects.filter(year=2024).values_list("closed", flat=True)) == {True}
    assert Period.objects.filter(book_year__year=2024, closed=False).count() == 0
    open_now = set(Period.objects.filter(book_year__year=2025, closed=False).values_list("month", flat=True))
    assert open_now == set(range(6, 13))
    # The carry-forward: two closing vouchers a book, and the income accounts empty at the end of 2024.
    books = Book.objects.count()
    assert Voucher.objects.filter(kind="closing", book_year__year=2024).count() == 2 * books
    income = VoucherLine.objects.filter(voucher__book_year__year=2024, voucher__status="posted",
                                        account__account_class="income").aggregate(
        debit=Sum("debit"), credit=Sum("credit"))
    assert income["debit"].quantize(CENT) == income["credit"].quantize(CENT)
    # Numbers are gapless per book and month; drafts and vouchers awaiting review in June only.
    for row in Voucher.objects.filter(status="posted").values("book_year", "month").annotate(
            n=Count("pk"), top=Sum("number")):
        assert row["top"] == row["n"] * (row["n"] + 1) // 2
    waiting = set(Voucher.objects.exclude(status="posted").values_list("status", "month"))
    assert waiting == {("draft", 6), ("submitted", 6)}


def test_the_demo_figures_spread_over_the_bands(seeded):
    rollup_month(JUNE)
    county = OrgUnit.objects.get(level=Level.COUNTY)
    bands = {key: number(JUNE, ce.BAND_PREFIX + key, county) for key in ("weak", "100k", "500k", "1m")}
    assert sum(1 for count in bands.values() if count) >= 3
    assert sum(bands.values()) == Book.objects.count()
    assert number(JUNE, ce.OPERATING_YTD, county) > 0
    assert number(JUNE, ce.OPERATING_LAST_YEAR, county) > number(JUNE, ce.OPERATING_YTD, county) > Decimal(0)


def test_a_reset_empties_the_books(seeded):
    seed_demo(scale="small", seed=1, today=TODAY, reset=True)
    assert Book.objects.count() == OrgUnit.objects.filter(level=Level.VILLAGE).count()


def test_the_ledgers_triggers_survive_the_demo_load(seeded):
    """On PostgreSQL the loader drops the loaded tables' indexes and foreign keys, never the triggers."""
    posted = Voucher.objects.filter(status="posted").first()
    with pytest.raises(IntegrityError, match="ledger:"), transaction.atomic():
        Voucher.objects.filter(pk=posted.pk).update(summary="改动")
    with pytest.raises(IntegrityError, match="ledger:"), transaction.atomic():
        VoucherLine.objects.filter(voucher=posted).delete()


# --- The registers and decisions of every village ------------------------------------------------


def test_every_village_has_contracts_assets_resources_and_a_decision_published_with_results(seeded):
    villages = set(OrgUnit.objects.filter(level=Level.VILLAGE).values_list("pk", flat=True))
    for model in (Contract, Asset, Resource, DebtRecord, Project):
        assert set(model.objects.values_list("village", flat=True)) == villages, model
    resulted = set(Decision.objects.filter(state=DecisionState.RESULT).exclude(result_summary="")
                   .values_list("village", flat=True))
    assert resulted == villages
    # Firms by name and credit code; private persons by reference to a resident of the village, never by name.
    for contract in Contract.objects.select_related("village", "counterparty_resident__household__grid"):
        if contract.counterparty_kind == "firm":
            validate_credit_code(contract.counterparty_credit_code)
            assert contract.counterparty_name and contract.counterparty_resident is None
        else:
            grid = contract.counterparty_resident.household.grid
            assert contract.counterparty_name == "" and contract.village.lft < grid.lft < contract.village.rght
    irregular = Contract.objects.filter(is_regular=False)
    assert irregular.exists() and irregular.filter(cleaned_up_on__isnull=False).exists()
    assert irregular.filter(cleaned_up_on__isnull=True).exists()
    assert Contract.objects.filter(resource__isnull=False).count() >= len(villages)
    assert DebtSettlement.objects.filter(record__kind="receivable").exists()
    assert DebtSettlement.objects.filter(record__kind="debt").exists()


def test_the_assets_are_the_fixed_asset_account_in_detail(seeded):
    """Each asset is on its own fixed-asset detail account, and their values are the account's balance."""
    for book in Book.objects.select_related("village"):
        assets = Asset.objects.filter(village=book.village).select_related("sub_account__account")
        assert {asset.sub_account.book_id for asset in assets} == {book.pk}
        assert {asset.sub_account.account.role for asset in assets} == {"fixed_assets"}
        year = book.years.get(year=2025)
        opening = OpeningBalance.objects.filter(book_year=year, account__role="fixed_assets").aggregate(
            debit=Sum("debit"), credit=Sum("credit"))
        moved = VoucherLine.objects.filter(voucher__book_year=year, voucher__status="posted",
                                           account__role="fixed_assets").aggregate(debit=Sum("debit"),
                                                                                   credit=Sum("credit"))
        balance = opening["debit"] - opening["credit"] + (moved["debit"] or 0) - (moved["credit"] or 0)
        assert sum(asset.value for asset in assets).quantize(CENT) == balance.quantize(CENT)


def test_each_payment_above_the_threshold_cites_a_resolved_decision_of_its_village(seeded):
    payments = [voucher for voucher in Voucher.objects.filter(status="posted", kind="normal")
                .select_related("book__village", "decision") if payment_needs_decision(voucher)[0]]
    villages = OrgUnit.objects.filter(level=Level.VILLAGE).count()
    assert len({voucher.book.village_id for voucher in payments}) == villages  # the projects' construction at least
    for voucher in payments:
        assert voucher.decision is not None, voucher.summary
        assert voucher.decision.village_id == voucher.book.village_id
        assert voucher.decision.state in RESOLVED_STATES
        resolved = voucher.decision.records.get(step=Step.RESOLUTION).held_on
        assert resolved <= voucher.date
    # A project's income is read from the books: the detail account its operating income is posted on.
    income = project_income(Project.objects.all())
    assert all(income.get(project.pk, 0) > 0 for project in Project.objects.filter(status="operating"))


def test_one_village_decides_in_six_steps_every_household_signing(seeded):
    village = OrgUnit.objects.get(pk=User.objects.get(username="village_a").home_unit_id)
    assert VillageDecisionSetting.objects.get(village=village).six_step
    decision = Decision.objects.filter(village=village, state=DecisionState.RESULT).first()
    assert decision.six_step and decision.steps == SIX_STEPS
    assert list(decision.records.order_by("held_on", "pk").values_list("step", flat=True)) == SIX_STEPS
    households = village_households(village)
    assert households.count() > 0
    assert decision.signatures.count() == households.count()
    consultation = decision.records.get(step=Step.CONSULTATION)
    assert consultation.expected == consultation.attended == households.count()
    # The other villages decide in four steps.
    assert not Decision.objects.exclude(village=village).filter(six_step=True).exists()


def test_the_schedules_are_paid_through_the_books_but_one_overdue_payment_in_some_villages(seeded):
    late = overdue_instalments(today=datetime.date(2025, 6, 30))
    villages = OrgUnit.objects.filter(level=Level.VILLAGE).count()
    assert 0 < len({instalment.contract.village_id for instalment in late}) < villages
    for payment in ContractPayment.objects.select_related("voucher__book", "contract"):
        assert payment.voucher.status == "posted" and payment.voucher.book.village_id == payment.contract.village_id
    for voucher_id, linked in ContractPayment.objects.values_list("voucher").annotate(total=Sum("amount")):
        assert linked.quantize(CENT) <= Voucher.objects.get(pk=voucher_id).debit_total


def test_the_projects_cover_the_four_categories_and_the_countys_own(seeded):
    used = set(Project.objects.values_list("category__code", flat=True))
    shipped = set(ProjectCategory.objects.filter(county__isnull=True).values_list("code", flat=True))
    assert len(shipped) == 4 and shipped <= used
    assert ProjectCategory.objects.filter(county__level=Level.COUNTY, projects__isnull=False).exists()
    assert Project.objects.annotate(n=Count("villages")).filter(n__gt=1).exists()  # a project of two villages


def test_a_reset_keeps_the_shipped_project_categories(seeded):
    seed_demo(scale="small", seed=1, today=TODAY, reset=True)
    assert ProjectCategory.objects.filter(county__isnull=True).count() == 4
    assert ProjectCategory.objects.filter(county__isnull=False).count() == 1
    assert Contract.objects.values("village").distinct().count() == OrgUnit.objects.filter(level=Level.VILLAGE).count()


def test_the_registers_figures_roll_up_to_the_county(seeded):
    rollup_month(JUNE)
    county = OrgUnit.objects.get(level=Level.COUNTY)
    villages = OrgUnit.objects.filter(level=Level.VILLAGE).count()
    assert 0 < number(JUNE, ce.CLEANED, county) < number(JUNE, ce.IRREGULAR, county)
    assert number(JUNE, ce.PUBLISHED_TO_DATE, county) > villages
    assert number(JUNE, ce.PROJECT_COUNT, county) >= villages
    assert number(JUNE, ce.PROJECT_INCOME, county) > 0
    assert number(JUNE, ce.COLLECTED, county) > 0 and number(JUNE, ce.RESOLVED, county) > 0

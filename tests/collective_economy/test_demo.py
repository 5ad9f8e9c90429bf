"""The collective economy's demo (seed_demo): every demo village has a book that balances, last year closed,
this year's months before the current one closed, and operating incomes in several bands."""

import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.db.models import Count, Sum

from collective_economy import indicators as ce
from collective_economy.models import Book, BookYear, EconomicOrganisation, OpeningBalance, Period, Voucher, VoucherLine
from governance.demo import seed_demo
from governance.indicators.engine import rollup_month
from governance.models import Level, OrgUnit
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

"""The books' pages: the list and a book's months as a bookkeeper and a township officer see them,
month end (close, re-open with a reason), setting up a book, and township B seeing nothing of A."""

import datetime

import pytest
from django.urls import reverse

from collective_economy.models import Book, Period, PeriodEvent
from collective_economy.workbench import closable_months
from tests.helpers.ledger import charts, credit_code, new_book, post

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(county, village_a, clerk_a):
    book = new_book(county.villages[0])
    post(book, datetime.date(2025, 1, 10), [("102", "1200.00", "0", "收到租金"), ("501", "0", "1200.00")],
         preparer=village_a, reviewer=clerk_a)
    return book


def test_a_bookkeeper_with_one_book_lands_on_it(staff, village_a, book):
    response = staff(village_a).get(reverse("collective_economy:book-list"))
    assert response.status_code == 302
    assert response.url == reverse("collective_economy:book-detail", args=[book.pk])


def test_the_township_officer_sees_the_books_of_his_villages(staff, clerk_a, book, django_assert_max_num_queries):
    client = staff(clerk_a)
    with django_assert_max_num_queries(30):
        response = client.get(reverse("collective_economy:book-list"))
    assert response.status_code == 200
    page = response.content.decode()
    assert book.organisation.name in page
    assert "1/12" not in page  # nothing closed yet
    assert 'id="book-create"' in page


def test_a_grid_in_the_address_narrows_the_books_to_its_village(staff, county_official, county, book, book_b):
    """A grid's dashboard links to a list with its whole chain (township, village, grid); books are
    kept by villages, so the list shows the village's book (the grid was taken as the unit picked,
    and the list came back empty)."""
    chain = {"township": county.township_a.code, "village": county.villages[0].code, "grid": county.grids[0].code}
    response = staff(county_official).get(reverse("collective_economy:book-list"), chain)
    assert [row.pk for row in response.context["object_list"]] == [book.pk]
    assert "grid" not in response.context["filter_form"].fields and "tag" not in response.context["filter_form"].fields


def test_the_book_list_costs_the_same_for_more_books(staff, county_official, county, village_a, clerk_a, book):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = staff(county_official)
    with CaptureQueriesContext(connection) as one:
        assert client.get(reverse("collective_economy:book-list")).status_code == 200
    other = new_book(county.villages[1])
    post(other, datetime.date(2025, 2, 1), [("101", "5.00", "0"), ("102", "0", "5.00")], preparer=village_a,
         reviewer=clerk_a)
    with CaptureQueriesContext(connection) as two:
        page = client.get(reverse("collective_economy:book-list")).content.decode()
    assert other.organisation.name in page and book.organisation.name in page
    assert len(two) == len(one)


def test_the_book_page_shows_the_months_and_the_statements(staff, village_a, book):
    response = staff(village_a).get(reverse("collective_economy:book-detail", args=[book.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert page.count('data-month="') == 12
    assert "2025-01" in page
    # A bookkeeper enters vouchers but does not close months.
    assert reverse("collective_economy:voucher-create", args=[book.pk]) in page
    assert 'data-action="close"' not in page


def test_township_b_sees_nothing_of_township_a(staff, clerk_b, book):
    client = staff(clerk_b)
    assert client.get(reverse("collective_economy:book-detail", args=[book.pk])).status_code == 404
    assert client.get(reverse("collective_economy:voucher-list", args=[book.pk])).status_code == 404
    assert client.get(reverse("collective_economy:voucher-create", args=[book.pk])).status_code in (403, 404)
    assert client.get(reverse("collective_economy:account-search", args=[book.pk])).status_code == 404
    period = Period.objects.get(book_year__book=book, month=1)
    assert client.post(reverse("collective_economy:period-close", args=[period.pk])).status_code == 404
    assert book.organisation.name not in client.get(reverse("collective_economy:book-list")).content.decode()


def test_the_township_officer_closes_and_reopens_a_month(staff, clerk_a, book):
    client = staff(clerk_a)
    page = client.get(reverse("collective_economy:book-detail", args=[book.pk])).content.decode()
    assert 'data-action="close"' in page
    january = Period.objects.get(book_year__book=book, month=1)
    response = client.post(reverse("collective_economy:period-close", args=[january.pk]), follow=True)
    january.refresh_from_db()
    assert january.closed and january.closed_by == clerk_a
    assert "已结账" in response.content.decode() or "2025-01" in response.content.decode()

    # Re-opening needs a reason: without one nothing happens and the page says why.
    response = client.post(reverse("collective_economy:period-reopen", args=[january.pk]), {"reason": ""}, follow=True)
    january.refresh_from_db()
    assert january.closed
    assert response.status_code == 200
    client.post(reverse("collective_economy:period-reopen", args=[january.pk]), {"reason": "补记一张漏记的凭证"})
    january.refresh_from_db()
    assert not january.closed
    event = PeriodEvent.objects.filter(period=january).first()
    assert event.action == PeriodEvent.Action.REOPEN and event.reason == "补记一张漏记的凭证"
    page = client.get(reverse("collective_economy:book-detail", args=[book.pk])).content.decode()
    assert "补记一张漏记的凭证" in page


def test_a_bookkeeper_cannot_close_a_month(staff, village_a, book):
    january = Period.objects.get(book_year__book=book, month=1)
    response = staff(village_a).post(reverse("collective_economy:period-close", args=[january.pk]))
    assert response.status_code == 403
    january.refresh_from_db()
    assert not january.closed


def test_a_month_with_a_draft_is_not_closed_and_the_page_says_why(staff, clerk_a, village_a, book):
    from collective_economy.services.vouchers import LineInput, voucher_save
    from tests.helpers.ledger import accounts

    chart = accounts(book)
    voucher_save(book=book, date=datetime.date(2025, 1, 20), user=village_a, lines=[
        LineInput(account=chart["101"], debit="10.00", summary="备用金"),
        LineInput(account=chart["102"], credit="10.00")])
    january = Period.objects.get(book_year__book=book, month=1)
    response = staff(clerk_a).post(reverse("collective_economy:period-close", args=[january.pk]), follow=True)
    january.refresh_from_db()
    assert not january.closed
    assert "1" in response.content.decode() and 'alert-danger' in response.content.decode()


def test_the_year_close_is_offered_to_the_township_only(staff, clerk_a, village_a, book):
    assert 'id="year-close-form"' in staff(clerk_a).get(
        reverse("collective_economy:book-detail", args=[book.pk])).content.decode()
    assert 'id="year-close-form"' not in staff(village_a).get(
        reverse("collective_economy:book-detail", args=[book.pk])).content.decode()
    year = book.years.get()
    assert staff(village_a).post(reverse("collective_economy:year-close", args=[year.pk])).status_code == 403


def test_a_township_officer_sets_up_a_book(staff, clerk_a, county):
    village = next(v for v in county.villages if v.parent_id == county.township_a.pk)
    charts()
    client = staff(clerk_a)
    page = client.get(reverse("collective_economy:book-create")).content.decode()
    assert village.display_name in page
    data = {"village": village.pk, "name": "德A村股份经济合作社", "credit_code": "N2513424000000001X",
            "legal_representative": "王五", "registered_on": "2020-05-01", "party_led": "on",
            "year": 2025, "chart": charts()["2023"].pk}
    response = client.post(reverse("collective_economy:book-create"), data)
    # A wrong check character is refused on the field, with what was typed kept.
    assert response.status_code == 200
    assert 'has-error' in response.content.decode() and "王五" in response.content.decode()
    assert not Book.objects.filter(village=village).exists()
    data["credit_code"] = credit_code(village.code, 7)
    response = client.post(reverse("collective_economy:book-create"), data)
    book = Book.objects.get(village=village)
    assert response.status_code == 302 and response.url == reverse("collective_economy:book-detail", args=[book.pk])
    assert book.organisation.party_led and book.years.get().periods.count() == 12


def test_a_bookkeeper_does_not_set_up_books(staff, village_a):
    assert staff(village_a).get(reverse("collective_economy:book-create")).status_code == 403


def test_the_workbench_shows_the_ledger_panel(staff, clerk_a, village_a, book):
    page = staff(village_a).get(reverse("home")).content.decode()
    assert 'id="workbench-ledger"' in page and 'data-tile="draft"' in page
    page = staff(clerk_a).get(reverse("home")).content.decode()
    assert 'id="workbench-ledger"' in page and 'data-tile="submitted"' in page
    # January 2025 has ended and has nothing waiting: the township could close it.
    assert [p.month for p in closable_months(clerk_a, today=datetime.date(2025, 3, 1))] == [1]
    assert closable_months(clerk_a, today=datetime.date(2025, 1, 15)) == []


def test_the_rail_links_to_the_books(staff, clerk_a, grid_worker_a):
    page = staff(clerk_a).get(reverse("home")).content.decode()
    assert f'href="{reverse("collective_economy:book-list")}"' in page

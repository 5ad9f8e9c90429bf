"""The ledger admin: charts as data (edited inline, loaded from a file or again from the shipped ones),
books opened through the services, months closed and re-opened by actions, scoped lists, and
vouchers that are never changed or deleted here once posted."""

import copy
import datetime
import json

import pytest
from django import forms
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from collective_economy.models import (
    Book,
    Chart,
    ChartAccount,
    EconomicOrganisation,
    Period,
    PeriodEvent,
    StatementRow,
    Voucher,
    VoucherLine,
)
from collective_economy.services.charts import chart_data
from collective_economy.services.periods import REASON_NEEDED
from tests.helpers.admin import listed, refused
from tests.helpers.ledger import accounts, credit_code, new_book
from tests.helpers.ledger import post as post_voucher

# The admin's rules for every role, as an operator who names them in ADMIN_ROLES meets them.
pytestmark = pytest.mark.usefixtures("admin_for_every_role")


def url(model, view="changelist", *args):
    return reverse(f"admin:collective_economy_{model}_{view}", args=args)


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def change_form_data(response) -> dict:
    """The change form and its inlines as the page shows them, ready to post back."""
    assert response.status_code == 200, response.content[:300]
    data, all_forms = {}, [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        data.update({management.add_prefix(name): management[name].value() for name in management.fields})
        all_forms += list(inline.formset.forms)
    for form in all_forms:
        for name, field in form.fields.items():
            value = form[name].value()
            if isinstance(field, forms.BooleanField):
                if value:
                    data[form.add_prefix(name)] = "on"
            else:
                data[form.add_prefix(name)] = "" if value is None else value
    return data


@pytest.fixture
def book_a(county, village_a):
    return new_book(county.villages[0], bookkeepers=[village_a])


@pytest.fixture
def book_b(county):
    return new_book(county.villages[1])


@pytest.fixture
def posted_a(book_a, village_a, clerk_a):
    return post_voucher(book_a, datetime.date(2025, 1, 10), [("102", "1000.00", "0"), ("501", "0", "1000.00")],
                        preparer=village_a, reviewer=clerk_a)


# --- Charts as data --------------------------------------------------------------------------


def test_admin_edits_a_chart_inline(county, admin_user, staff, book_a):
    client = staff(admin_user)
    chart = Chart.objects.get(code="2023")
    change = url("chart", "change", chart.pk)
    response = client.get(change)
    assert "经营收入（501）" in response.content.decode()  # the operating income's definition is shown
    data = change_form_data(response)
    index = next(key for key, value in data.items() if key.startswith("accounts-") and key.endswith("-code")
                 and value == "504")
    data[index.replace("-code", "-name")] = "其他收入（含利息）"
    response = client.post(change, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    assert ChartAccount.objects.get(chart=chart, code="504").name == "其他收入（含利息）"


def test_a_township_reads_charts_but_does_not_change_them(county, clerk_a, staff, book_a):
    client = staff(clerk_a)
    chart = Chart.objects.get(code="2023")
    assert client.get(url("chart", "change", chart.pk)).status_code == 200
    data = {"code": "2023", "name": "改名"}
    assert client.post(url("chart", "change", chart.pk), data).status_code == 403
    assert client.get(url("chart", "add")).status_code == 403
    assert Chart.objects.get(pk=chart.pk).name != "改名"


def _upload(client, data, name="chart.json"):
    raw = data if isinstance(data, bytes) else json.dumps(data, ensure_ascii=False).encode()
    return client.post(url("chart", "add"), {"file": SimpleUploadedFile(name, raw, "application/json")})


def test_a_chart_file_is_loaded(admin_user, staff, book_a):
    client = staff(admin_user)
    data = copy.deepcopy(chart_data("2004"))
    data.update(code="2004-sx", name="山西村集体经济组织会计科目（试行）")
    response = _upload(client, data)
    chart = Chart.objects.get(code="2004-sx")
    assert response.status_code == 302 and response.url == url("chart", "change", chart.pk)
    assert chart.accounts.count() == len(data["accounts"])
    assert StatementRow.objects.filter(chart=chart).count() == sum(len(r) for r in data["statements"].values())


@pytest.mark.parametrize("bad", [
    b"{not json",
    b"\xff\xfe garbage",
    json.dumps({"code": "x", "name": "x", "accounts": []}).encode(),
    json.dumps({"code": "x", "name": "x", "accounts": [["101", "现金", "asset", "debit", ""]]}).encode(),
])
def test_a_file_that_is_no_chart_is_refused_and_nothing_written(admin_user, staff, book_a, bad):
    client = staff(admin_user)
    before = (Chart.objects.count(), ChartAccount.objects.count())
    response = _upload(client, bad)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["file"]
    assert (Chart.objects.count(), ChartAccount.objects.count()) == before


@pytest.mark.parametrize("change", ["operating_expense", "unknown_source_chart"])
def test_a_chart_the_service_refuses_writes_nothing(admin_user, staff, book_a, change):
    client = staff(admin_user)
    data = copy.deepcopy(chart_data("2023"))
    data.update(code="2023-new", name="新科目表")
    if change == "operating_expense":
        data["accounts"][-1][5] = True  # an expense account counted as operating income
    else:
        data["maps_from"]["chart"] = "1999"
    before = (Chart.objects.count(), ChartAccount.objects.count(), StatementRow.objects.count())
    response = _upload(client, data)
    assert response.status_code == 302
    assert messages_of(response)  # the service's reason, on the page
    assert (Chart.objects.count(), ChartAccount.objects.count(), StatementRow.objects.count()) == before


def test_the_shipped_charts_are_loaded_again(admin_user, staff, book_a):
    client = staff(admin_user)
    account = ChartAccount.objects.get(chart__code="2023", code="501")
    account.name = "乱改的名字"
    account.save()
    response = client.post(url("chart"), {"action": "load_shipped", "_selected_action": [account.chart_id]})
    assert response.status_code == 302
    assert ChartAccount.objects.get(pk=account.pk).name == "经营收入"
    # Adding by "load the shipped charts again" does the same.
    account.name = "又改了"
    account.save()
    assert client.post(url("chart", "add"), {"shipped": "on"}).status_code == 302
    assert ChartAccount.objects.get(pk=account.pk).name == "经营收入"


def test_mappings_are_listed_with_account_search(admin_user, staff, book_a):
    client = staff(admin_user)
    assert len(listed(client.get(url("chartmapping")))) > 20
    response = client.get(reverse("admin:autocomplete"), {"app_label": "collective_economy",
                                                          "model_name": "chartmapping", "field_name": "target",
                                                          "term": "501"})
    assert response.status_code == 200 and any("501" in row["text"] for row in response.json()["results"])


# --- Scope ---------------------------------------------------------------------------------------


def test_township_b_lists_nothing_of_township_a(county, clerk_b, staff, book_a, book_b, posted_a):
    client = staff(clerk_b)
    assert listed(client.get(url("book"))) == [book_b]
    assert listed(client.get(url("voucher"))) == []
    assert {p.book_year.book for p in listed(client.get(url("period")))} == {book_b}
    assert [o.village for o in listed(client.get(url("economicorganisation")))] == [county.villages[1]]
    assert refused(client.get(url("book", "change", book_a.pk)))
    assert refused(client.get(url("voucher", "change", posted_a.pk)))
    assert refused(client.get(url("period", "change", Period.objects.filter(book_year__book=book_a)[0].pk)))


# --- Books, organisations, months -------------------------------------------------------------


def test_township_opens_a_book_with_its_months(county, clerk_a, village_a, staff):
    client = staff(clerk_a)
    village = county.villages[0]
    response = client.post(url("book", "add"), {
        "village": village.pk, "organisation": "", "name": "", "chart": Chart.objects.get(code="2023").pk,
        "year": "2025", "bookkeepers": [village_a.pk], "separate_review": "on"})
    assert response.status_code == 302, response.context["adminform"].form.errors
    book = Book.objects.get()
    assert book.village == village and list(book.bookkeepers.all()) == [village_a]
    assert Period.objects.filter(book_year__book=book).count() == 12


def test_a_wrong_credit_code_is_refused(county, clerk_a, staff):
    client = staff(clerk_a)
    good = credit_code(county.villages[0].code)
    data = {"village": county.villages[0].pk, "name": "甲村股份经济合作社", "credit_code": good[:-1] + (
        "0" if good[-1] != "0" else "1"), "legal_representative": "张三", "registered_on": ""}
    response = client.post(url("economicorganisation", "add"), data)
    assert response.status_code == 200 and response.context["adminform"].form.errors["credit_code"]
    assert client.post(url("economicorganisation", "add"), {**data, "credit_code": good}).status_code == 302
    assert EconomicOrganisation.objects.get().credit_code == good


def test_months_are_closed_and_reopened_with_a_reason(book_a, posted_a, clerk_a, staff):
    client = staff(clerk_a)
    january = Period.objects.get(book_year__book=book_a, month=1)
    client.post(url("period"), {"action": "close_selected", "_selected_action": [january.pk]})
    assert Period.objects.get(pk=january.pk).closed
    response = client.post(url("period"), {"action": "reopen_selected", "_selected_action": [january.pk],
                                           "reason": ""})
    assert any(str(REASON_NEEDED) in message for message in messages_of(response))
    assert Period.objects.get(pk=january.pk).closed
    client.post(url("period"), {"action": "reopen_selected", "_selected_action": [january.pk], "reason": "补记收入"})
    assert not Period.objects.get(pk=january.pk).closed
    assert PeriodEvent.objects.filter(period=january).latest("pk").reason == "补记收入"
    # A month is never edited in a form.
    assert client.post(url("period", "change", january.pk), {"closed": "on"}).status_code == 403


def test_a_village_bookkeeper_does_not_close_months(book_a, posted_a, village_a, staff):
    january = Period.objects.get(book_year__book=book_a, month=1)
    staff(village_a).post(url("period"), {"action": "close_selected", "_selected_action": [january.pk]})
    assert not Period.objects.get(pk=january.pk).closed


# --- Vouchers ------------------------------------------------------------------------------------


def test_a_posted_voucher_is_neither_changed_nor_deleted(book_a, posted_a, admin_user, staff):
    client = staff(admin_user)
    before = (Voucher.objects.filter(pk=posted_a.pk).values().get(),
              list(VoucherLine.objects.filter(voucher=posted_a).values()))
    change = url("voucher", "change", posted_a.pk)
    page = client.get(change)
    assert page.status_code == 200 and "记-1" in page.content.decode()
    assert client.post(change, {"summary": "改了", "attachments": "9"}).status_code == 403
    assert client.get(url("voucher", "delete", posted_a.pk)).status_code == 403
    assert client.post(url("voucher", "delete", posted_a.pk), {"post": "yes"}).status_code == 403
    assert 'value="delete_selected"' not in client.get(url("voucher")).content.decode()
    client.post(url("voucher"), {"action": "delete_selected", "_selected_action": [posted_a.pk], "post": "yes"})
    after = (Voucher.objects.filter(pk=posted_a.pk).values().get(),
             list(VoucherLine.objects.filter(voucher=posted_a).values()))
    assert after == before


def test_a_draft_is_deleted_through_the_service(book_a, village_a, staff):
    from collective_economy.services.vouchers import LineInput, voucher_save

    chart = accounts(book_a)
    draft = voucher_save(book=book_a, date=datetime.date(2025, 2, 1), user=village_a, lines=[
        LineInput(account=chart["101"], debit="5.00", summary="零星收入"),
        LineInput(account=chart["504"], credit="5.00", summary="零星收入")])
    client = staff(village_a)
    assert client.post(url("voucher", "delete", draft.pk), {"post": "yes"}).status_code == 302
    assert not Voucher.objects.filter(pk=draft.pk).exists()


MODELS = ["chart", "chartaccount", "chartmapping", "economicorganisation", "book", "bookyear", "period",
          "periodevent", "subaccount", "openingbalance", "voucher"]


@pytest.mark.parametrize("model", MODELS)
def test_every_list_and_page_opens(county, admin_user, clerk_a, staff, book_a, posted_a, model,
                                   django_assert_max_num_queries):
    from decimal import Decimal

    from collective_economy.services.books import Balance, book_year_open, opening_balances_set, sub_account_create
    from collective_economy.services.periods import period_close, period_reopen

    sub = sub_account_create(book=book_a, account=accounts(book_a)["112"], code="112001", name="李四")
    next_year = book_year_open(book=book_a, year=2026, chart=Chart.objects.get(code="2023"))
    opening_balances_set(book_year=next_year, balances=[Balance(sub.account, Decimal("10.00"), sub),
                                                        Balance(accounts(book_a)["301"], Decimal("-10.00"))])
    january = Period.objects.get(book_year__book=book_a, book_year__year=2025, month=1)
    period_reopen(period=period_close(period=january, user=clerk_a), user=clerk_a, reason="补记")
    for user in (admin_user, clerk_a):
        client = staff(user)
        with django_assert_max_num_queries(30):
            rows = listed(client.get(url(model)))
        assert rows, (model, user)
        assert client.get(url(model, "change", rows[0].pk)).status_code == 200


def test_the_journal_and_opening_balances_offer_the_import_to_the_township(county, clerk_a, village_a, staff, book_a,
                                                                          book_b):
    post_voucher(book_a, datetime.date(2025, 1, 5), [("102", "10.00", "0"), ("501", "0", "10.00")],
                 preparer=village_a, reviewer=clerk_a)
    post_voucher(book_b, datetime.date(2025, 1, 5), [("102", "20.00", "0"), ("501", "0", "20.00")],
                 preparer=village_a, reviewer=clerk_a)
    client = staff(clerk_a)
    journal = client.get(url("voucherline"))
    assert journal.status_code == 200
    assert journal.context["cl"].result_count == 2  # township A's lines only
    assert journal.context["roster_may_import"] and client.get(url("voucherline", "roster_import")).status_code == 200
    balances = client.get(url("openingbalance"))
    assert balances.context["roster_may_import"]
    assert client.get(url("openingbalance", "roster_import")).status_code == 200


def test_a_bookkeeper_does_not_import_vouchers(village_a, staff, book_a):
    response = staff(village_a).get(url("voucherline"))
    assert response.status_code == 200 and not response.context["roster_may_import"]

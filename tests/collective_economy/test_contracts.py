"""Contracts and receivables/debts on their pages: a contract entered with its schedule, a payment recorded
(never above what is still due, linked to a posted voucher), a private counterparty by reference (never a typed
name: the database refuses one too) and named only to the village, receivables collected, and township B
seeing nothing of A."""

import datetime
import re
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from collective_economy.models import Contract, ContractInstalment, ContractPayment, DebtRecord, DebtSettlement
from collective_economy.services.registers import (
    PAYMENT_ABOVE_DUE,
    PERSON_NEEDS_RESIDENT,
    PERSON_NO_FIRM,
    contract_payment_record,
    contract_save,
    debt_record_save,
    instalments_set,
)
from tests.helpers.ledger import new_book, post
from tests.helpers.messages import english, errors_of

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)
FIRM = "德昌绿源农业有限公司"


def new_contract(village, user, *, number="HT-2025-01", schedule=(), **fields):
    """A contract of ``village`` through the services, with its schedule (date, amount) if given."""
    values = {"title": "东沟耕地发包", "kind": "letting", "subject_kind": "land", "subject": "东沟耕地35.5亩",
              "counterparty_name": FIRM, "amount": Decimal("30000.00"), "signed_on": TODAY - 400 * DAY,
              "starts_on": TODAY - 400 * DAY, "ends_on": TODAY + 1000 * DAY, **fields}
    contract = contract_save(user=user, village=village, number=number, **values)
    if schedule:
        instalments_set(contract=contract, schedule=list(schedule))
    return contract


@pytest.fixture
def contract(county, village_a):
    return new_contract(county.villages[0], village_a, schedule=[(TODAY - 30 * DAY, "6000.00"),
                                                                  (TODAY + 300 * DAY, "6000.00")])


@pytest.fixture
def private_contract(county, village_a):
    return new_contract(county.villages[0], village_a, number="HT-2025-02", title="鱼塘租赁", kind="lease",
                        subject_kind="water", counterparty_kind="resident", counterparty_name="",
                        counterparty_resident=county.residents[0])


def form_data(village, **overrides):
    data = {"village": village.pk, "number": "HT-2025-09", "title": "村东厂房租赁", "kind": "lease",
            "counterparty_kind": "firm", "counterparty_name": FIRM, "counterparty_credit_code": "",
            "subject_kind": "building", "subject": "村东厂房", "area": "", "location": "一组", "amount": "24,000.00",
            "signed_on": "2025-01-05", "starts_on": "2025-01-01", "ends_on": "2027-12-31", "status": "in_force",
            "is_regular": "on", "problem": "", "cleaned_up_on": "", "arrears": "0",
            "schedule-due_on": ["2025-06-30", "2025-12-31", ""], "schedule-amount": ["12,000.00", "12000", ""]}
    data.update(overrides)
    return data


# --- A private counterparty: by reference, never a typed name -------------------------------------


def test_a_private_counterparty_is_a_resident_never_a_typed_name(county, village_a):
    village = county.villages[0]
    with pytest.raises(ValidationError) as typed:
        new_contract(village, village_a, counterparty_kind="resident", counterparty_name="德甲")
    assert english(PERSON_NEEDS_RESIDENT) in errors_of(typed)
    with pytest.raises(ValidationError) as both:
        new_contract(village, village_a, counterparty_kind="resident", counterparty_name="德甲",
                     counterparty_resident=county.residents[0])
    assert english(PERSON_NO_FIRM) in errors_of(both)
    assert not Contract.objects.exists()
    # The database refuses it as well, whoever writes past the service.
    with pytest.raises(IntegrityError), transaction.atomic():
        Contract.objects.create(village=village, number="X", title="x", kind="lease", subject_kind="land",
                                counterparty_kind="resident", counterparty_name="德甲",
                                counterparty_resident=county.residents[0], amount=1, signed_on=TODAY,
                                starts_on=TODAY, ends_on=TODAY)


def test_a_resident_of_another_village_is_refused(county, village_a):
    with pytest.raises(ValidationError) as refused:
        new_contract(county.villages[0], village_a, counterparty_kind="resident", counterparty_name="",
                     counterparty_resident=county.residents[1])
    assert "counterparty_resident" in refused.value.message_dict


def test_the_form_drops_a_name_typed_before_switching_to_a_private_person(staff, county, village_a):
    resident = county.residents[0]
    response = staff(village_a).post(reverse("collective_economy:contract-create"), form_data(
        county.villages[0], counterparty_kind="resident", counterparty_name="德甲", counterparty_resident=resident.pk))
    contract = Contract.objects.get(number="HT-2025-09")
    assert response.status_code == 302
    assert (contract.counterparty_name, contract.counterparty_resident) == ("", resident)


def test_the_village_sees_its_private_counterparty_the_township_does_not(staff, county, village_a, clerk_a,
                                                                         private_contract):
    url = reverse("collective_economy:contract-detail", args=[private_contract.pk])
    resident = county.residents[0]
    assert resident.name in staff(village_a).get(url).content.decode()
    page = staff(clerk_a).get(url).content.decode()
    assert resident.name not in page and resident.id_number not in page
    assert "个人（不公开姓名）" in page
    listing = staff(clerk_a).get(reverse("collective_economy:contract-list")).content.decode()
    assert private_contract.title in listing and resident.name not in listing


# --- Entering a contract with its schedule --------------------------------------------------------


def test_the_village_enters_a_contract_with_its_schedule(staff, county, village_a):
    client = staff(village_a)
    response = client.post(reverse("collective_economy:contract-create"), form_data(county.villages[0]))
    contract = Contract.objects.get(number="HT-2025-09")
    assert response.status_code == 302
    assert response.url == reverse("collective_economy:contract-detail", args=[contract.pk])
    assert contract.amount == Decimal("24000.00")
    assert list(contract.instalments.values_list("due_on", "amount")) == [
        (datetime.date(2025, 6, 30), Decimal("12000.00")), (datetime.date(2025, 12, 31), Decimal("12000.00"))]
    page = client.get(response.url).content.decode()
    assert "2025-06-30" in page and "24,000.00" in page and 'id="schedule-table"' in page


def test_a_bad_schedule_row_comes_back_on_the_form_and_nothing_is_saved(staff, county, village_a):
    response = staff(village_a).post(reverse("collective_economy:contract-create"), form_data(
        county.villages[0], **{"schedule-due_on": ["2025-06-30", "2025-12-31"], "schedule-amount": ["12000", "abc"]}))
    page = response.content.decode()
    assert response.status_code == 200
    assert "第 2 笔" in page
    assert 'value="abc"' in page  # what was typed is kept
    assert not Contract.objects.exists()


def test_an_irregular_contract_keeps_its_problem_and_a_regular_one_drops_it(staff, county, village_a):
    client = staff(village_a)
    client.post(reverse("collective_economy:contract-create"), form_data(
        county.villages[0], is_regular="", problem="low_price", cleaned_up_on="2025-10-01"))
    contract = Contract.objects.get()
    assert (contract.is_regular, contract.problem, contract.cleaned_up_on) == (
        False, "low_price", datetime.date(2025, 10, 1))
    client.post(reverse("collective_economy:contract-edit", args=[contract.pk]), form_data(
        county.villages[0], problem="low_price", cleaned_up_on="2025-10-01"))
    contract.refresh_from_db()
    assert (contract.is_regular, contract.problem, contract.cleaned_up_on) == (True, "", None)


def test_a_scheduled_payment_that_received_money_stays_in_the_schedule(staff, county, village_a, contract):
    first = contract.instalments.order_by("due_on").first()
    contract_payment_record(instalment=first, received_on=TODAY, amount="100.00", user=village_a)
    response = staff(village_a).post(reverse("collective_economy:contract-edit", args=[contract.pk]), form_data(
        county.villages[0], number=contract.number))
    assert response.status_code == 200
    assert f"{first.due_on.isoformat()} 的应收款项已有收款" in response.content.decode()
    assert contract.instalments.count() == 2


# --- Payments ------------------------------------------------------------------------------------


def test_a_payment_above_what_is_still_due_is_refused(staff, village_a, contract):
    first = contract.instalments.order_by("due_on").first()
    contract_payment_record(instalment=first, received_on=TODAY, amount="1000.00", user=village_a)
    with pytest.raises(ValidationError) as refused:
        contract_payment_record(instalment=first, received_on=TODAY, amount="5000.01", user=village_a)
    assert "amount" in refused.value.message_dict
    assert errors_of(refused) == [english(PAYMENT_ABOVE_DUE, amount="5,000.01", due_on=first.due_on.isoformat(),
                                          left="5,000.00")]
    response = staff(village_a).post(reverse("collective_economy:contract-payment", args=[contract.pk]), {
        "instalment": first.pk, "received_on": TODAY.isoformat(), "amount": "5,000.01"})
    assert response.status_code == 200
    assert "5,000.00" in response.content.decode()
    assert ContractPayment.objects.count() == 1


def test_a_payment_is_recorded_with_the_posted_voucher_that_booked_it(staff, county, village_a, clerk_a, contract):
    book = new_book(county.villages[0], year=TODAY.year)
    voucher = post(book, TODAY.replace(day=1), [("102", "6000.00", "0", "收东沟耕地承包费"), ("501", "0", "6000.00")],
                   preparer=village_a, reviewer=clerk_a)
    first = contract.instalments.order_by("due_on").first()
    client = staff(village_a)
    response = client.post(reverse("collective_economy:contract-payment", args=[contract.pk]), {
        "instalment": first.pk, "received_on": TODAY.isoformat(), "amount": "6,000.00", "voucher": voucher.pk})
    assert response.status_code == 302
    payment = ContractPayment.objects.get()
    assert (payment.amount, payment.voucher, payment.recorded_by) == (Decimal("6000.00"), voucher, village_a)
    page = client.get(reverse("collective_economy:contract-detail", args=[contract.pk])).content.decode()
    assert reverse("collective_economy:voucher-detail", args=[voucher.pk]) in page
    options = client.get(reverse("collective_economy:register-picker"), {
        "what": "voucher", "village": county.villages[0].pk, "q": "承包费"}).content.decode()
    assert f'value="{voucher.pk}"' in options


def test_a_voucher_of_another_village_is_not_offered(staff, county, village_a, clerk_b, contract):
    book_b = new_book(county.villages[1], year=TODAY.year)
    voucher = post(book_b, TODAY.replace(day=1), [("102", "10.00", "0"), ("501", "0", "10.00")],
                   preparer=village_a, reviewer=clerk_b)
    first = contract.instalments.order_by("due_on").first()
    response = staff(village_a).post(reverse("collective_economy:contract-payment", args=[contract.pk]), {
        "instalment": first.pk, "received_on": TODAY.isoformat(), "amount": "10.00", "voucher": voucher.pk})
    assert response.status_code == 200
    assert not ContractPayment.objects.exists()


# --- The list ---------------------------------------------------------------------------------------


def test_the_list_filters_the_overdue_and_costs_the_same_for_more_contracts(staff, county, clerk_a, village_a,
                                                                            contract):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    late_free = new_contract(county.villages[0], village_a, number="HT-2025-03", title="村东厂房租赁",
                             schedule=[(TODAY + 10 * DAY, "500.00")])
    client = staff(clerk_a)
    url = reverse("collective_economy:contract-list")
    with CaptureQueriesContext(connection) as one:
        page = client.get(url, {"overdue": "1"}).content.decode()
    assert contract.title in page and late_free.title not in page
    assert "6,000.00" in page  # what is overdue
    for n in range(4):
        new_contract(county.villages[0], village_a, number=f"HT-2025-1{n}", schedule=[(TODAY - 5 * DAY, "100.00")])
    with CaptureQueriesContext(connection) as more:
        page = client.get(url, {"overdue": "1"}).content.decode()
    assert page.count('data-contract="') == 5
    assert len(more) == len(one)


def test_the_list_searches_and_exports_to_excel(staff, clerk_a, contract, private_contract):
    client = staff(clerk_a)
    url = reverse("collective_economy:contract-list")
    page = client.get(url, {"q": "鱼塘"}).content.decode()
    assert private_contract.title in page and contract.title not in page
    response = client.get(url, {"export": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    from io import BytesIO

    from openpyxl import load_workbook

    rows = list(load_workbook(BytesIO(response.content)).active.iter_rows(values_only=True))
    assert len(rows) == 3
    numbers = {row[1] for row in rows[1:]}
    assert numbers == {contract.number, private_contract.number}
    assert FIRM in {row[4] for row in rows[1:]}


def test_an_empty_list_says_what_to_do(staff, village_a):
    page = staff(village_a).get(reverse("collective_economy:contract-list")).content.decode()
    assert reverse("collective_economy:contract-create") in page
    assert 'id="contract-table"' not in page


# --- Receivables and debts -------------------------------------------------------------------------


def test_a_receivable_is_registered_and_collected_never_above_what_is_outstanding(staff, county, clerk_a):
    client = staff(clerk_a)
    response = client.post(reverse("collective_economy:debt-create"), {
        "village": county.villages[0].pk, "kind": "receivable", "number": "ZQ-01", "counterparty_kind": "firm",
        "counterparty_name": FIRM, "origin": "历年欠缴承包费", "opening_amount": "5,000.00",
        "registered_on": "2025-03-01"})
    record = DebtRecord.objects.get()
    assert response.status_code == 302
    settle = reverse("collective_economy:debt-settle", args=[record.pk])
    refused = client.post(settle, {"settled_on": "2025-04-01", "amount": "5000.01", "way": "cash"})
    assert refused.status_code == 200
    assert "5,000.01 元超过了余额（5,000.00 元）" in refused.content.decode()
    assert not DebtSettlement.objects.exists()
    assert client.post(settle, {"settled_on": "2025-04-01", "amount": "2,000", "way": "cash"}).status_code == 302
    page = client.get(reverse("collective_economy:debt-detail", args=[record.pk])).content.decode()
    assert "2,000.00" in page and "3,000.00" in page
    listing = client.get(reverse("collective_economy:debt-list"), {"state": "open"}).content.decode()
    assert "ZQ-01" in listing


def test_the_debt_list_sorts_by_what_is_outstanding_and_costs_the_same_for_more_records(staff, county, clerk_a,
                                                                                       django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def register(number, opening, settled=None):
        record = debt_record_save(user=clerk_a, village=county.villages[0], kind="receivable", number=number,
                                  counterparty_name=FIRM, origin="往来借款", opening_amount=Decimal(opening),
                                  registered_on=TODAY)
        if settled:
            from collective_economy.services.registers import debt_settle

            debt_settle(record=record, settled_on=TODAY, amount=settled, way="cash", user=clerk_a)

    register("ZQ-A", "900", settled="850")
    client = staff(clerk_a)
    url = reverse("collective_economy:debt-list")
    with CaptureQueriesContext(connection) as one:
        client.get(url, {"sort": "-outstanding"})
    register("ZQ-B", "300")
    register("ZQ-C", "100", settled="20")
    register("ZQ-D", "50", settled="50")
    with django_assert_max_num_queries(len(one)), CaptureQueriesContext(connection) as four:
        page = client.get(url, {"sort": "-outstanding"}).content.decode()
    assert len(four) == len(one)
    assert re.findall(r'data-debt="\d+">\s*<td>[^<]*</td>\s*<td class="mono"><a [^>]*>([^<]+)<', page) == [
        "ZQ-B", "ZQ-C", "ZQ-A", "ZQ-D"]  # 300, 80, 50, 0 outstanding
    settled = client.get(url, {"state": "settled"}).content.decode()
    assert "ZQ-D" in settled and "ZQ-B" not in settled


def test_a_private_debtor_is_referred_to_never_typed(county, village_a):
    with pytest.raises(ValidationError) as refused:
        debt_record_save(user=village_a, village=county.villages[0], kind="receivable", number="ZQ-02",
                         counterparty_kind="resident", counterparty_name="德甲", origin="借款",
                         opening_amount=Decimal("100"), registered_on=TODAY)
    assert english(PERSON_NEEDS_RESIDENT) in errors_of(refused)


# --- Scope -------------------------------------------------------------------------------------------


def test_township_b_sees_none_of_township_a(staff, clerk_b, village_a, contract):
    record = debt_record_save(user=village_a, village=contract.village, kind="debt", number="ZW-01",
                              counterparty_name=FIRM, origin="工程欠款", opening_amount=Decimal("800"),
                              registered_on=TODAY)
    instalment = ContractInstalment.objects.filter(contract=contract).first()
    client = staff(clerk_b)
    for name, args in (("contract-detail", [contract.pk]), ("contract-edit", [contract.pk]),
                       ("contract-payment", [contract.pk]), ("debt-detail", [record.pk]),
                       ("debt-edit", [record.pk]), ("debt-settle", [record.pk])):
        assert client.get(reverse(f"collective_economy:{name}", args=args)).status_code == 404, name
    assert client.post(reverse("collective_economy:instalment-case", args=[instalment.pk])).status_code == 404
    assert contract.title not in client.get(reverse("collective_economy:contract-list")).content.decode()
    assert "ZW-01" not in client.get(reverse("collective_economy:debt-list")).content.decode()
    options = client.get(reverse("collective_economy:register-picker"), {
        "what": "contract", "village": contract.village_id}).content.decode()
    assert contract.number not in options


def test_the_county_reads_but_does_not_write(staff, county_official, contract):
    client = staff(county_official)
    assert client.get(reverse("collective_economy:contract-detail", args=[contract.pk])).status_code == 200
    assert client.get(reverse("collective_economy:contract-edit", args=[contract.pk])).status_code == 403
    assert client.get(reverse("collective_economy:contract-create")).status_code == 403


# --- The admin -----------------------------------------------------------------------------------------


def admin_url(model, view="changelist", *args):
    return reverse(f"admin:collective_economy_{model}_{view}", args=args)


def admin_form_data(response) -> dict:
    """The change form and its inlines as the admin shows them, ready to post back."""
    from django import forms

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
            elif isinstance(value, list):
                data[form.add_prefix(name)] = value
            else:
                data[form.add_prefix(name)] = "" if value is None else value
    return data


def test_the_admin_writes_the_schedule_through_the_service(admin_for_every_role, staff, village_a, contract):
    client = staff(village_a)
    change = admin_url("contract", "change", contract.pk)
    data = admin_form_data(client.get(change))
    data["instalments-1-amount"] = "7000.00"
    data["instalments-2-due_on"] = (TODAY + 600 * DAY).isoformat()
    data["instalments-2-amount"] = "500.00"
    response = client.post(change, data)
    assert response.status_code == 302, response.content[:2000]
    assert list(contract.instalments.values_list("amount", flat=True)) == [
        Decimal("6000.00"), Decimal("7000.00"), Decimal("500.00")]
    # A payment received keeps its scheduled payment: deleting it is refused, nothing changes.
    first = contract.instalments.order_by("due_on").first()
    contract_payment_record(instalment=first, received_on=TODAY, amount="100.00", user=village_a)
    data = admin_form_data(client.get(change))
    data["instalments-0-DELETE"] = "on"
    refused = client.post(change, data, follow=True)
    assert "受保护的相关对象" in refused.content.decode()  # the admin's own refusal, before the service's
    assert contract.instalments.count() == 3


def test_the_admin_refuses_a_collection_above_what_is_outstanding(staff, county, clerk_a):
    record = debt_record_save(user=clerk_a, village=county.villages[0], kind="receivable", number="ZQ-9",
                              counterparty_name=FIRM, origin="历年欠缴承包费", opening_amount=Decimal("500"),
                              registered_on=TODAY)
    client = staff(clerk_a)
    change = admin_url("debtrecord", "change", record.pk)
    data = admin_form_data(client.get(change))
    data.update({"settlements-0-settled_on": TODAY.isoformat(), "settlements-0-amount": "600.00",
                 "settlements-0-way": "cash"})
    response = client.post(change, data, follow=True)
    assert "600.00 元超过了余额（500.00 元）" in response.content.decode()
    assert not DebtSettlement.objects.exists()
    data["settlements-0-amount"] = "200.00"
    assert client.post(change, data).status_code == 302
    assert DebtSettlement.objects.get().recorded_by == clerk_a


def test_the_admin_is_scoped_and_masks_a_private_person_for_the_township(staff, county, clerk_a, clerk_b,
                                                                          private_contract):
    from tests.helpers.admin import listed
    from tests.helpers.admin import refused as admin_refused

    assert listed(staff(clerk_b).get(admin_url("contract"))) == []
    assert admin_refused(staff(clerk_b).get(admin_url("contract", "change", private_contract.pk)))
    page = staff(clerk_a).get(admin_url("contract", "change", private_contract.pk)).content.decode()
    resident = county.residents[0]
    assert resident.name not in page and resident.id_number not in page
    assert f"{resident.name[0]}*" in page  # the picker's label: the surname only

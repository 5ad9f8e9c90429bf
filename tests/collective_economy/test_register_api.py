"""The clean-up registers' API: a contract created with its schedule, payments and settlements through the
services, refusals as 400s naming the field (a typed private person, a float, a payment above what is due), the
overdue case opened once, scope (404 outside), and a schema that validates."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from collective_economy.models import Contract, ContractPayment, DebtSettlement
from collective_economy.services.registers import (
    PAYMENT_ABOVE_DUE,
    PERSON_NEEDS_RESIDENT,
    SETTLE_ABOVE,
    contract_save,
    instalments_set,
)
from grid.models import Case
from tests.helpers.api import get, post, send
from tests.helpers.messages import english

pytestmark = pytest.mark.django_db

API = "/api/v1/ledger/"
TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)
FIRM = "德昌绿源农业有限公司"


def payload(village, **overrides):
    data = {"village": village.code, "number": "HT-API-1", "title": "东沟耕地发包", "kind": "letting",
            "subject_kind": "land", "counterparty_name": FIRM, "amount": "12000.00",
            "signed_on": (TODAY - 400 * DAY).isoformat(), "starts_on": (TODAY - 400 * DAY).isoformat(),
            "ends_on": (TODAY + 900 * DAY).isoformat(),
            "schedule": [{"due_on": (TODAY - 30 * DAY).isoformat(), "amount": "6000.00"},
                         {"due_on": (TODAY + 30 * DAY).isoformat(), "amount": "6000.00"}]}
    data.update(overrides)
    return data


@pytest.fixture
def contract_a(county, village_a):
    contract = contract_save(user=village_a, village=county.villages[0], number="HT-A", title="村东厂房租赁",
                             kind="lease", subject_kind="building", counterparty_name=FIRM, amount=Decimal("8000"),
                             signed_on=TODAY - 400 * DAY, starts_on=TODAY - 400 * DAY, ends_on=TODAY + 900 * DAY)
    instalments_set(contract=contract, schedule=[(TODAY - 10 * DAY, "4000.00"), (TODAY + 100 * DAY, "4000.00")])
    return contract


def test_a_contract_is_created_with_its_schedule(staff, county, village_a):
    response = post(staff(village_a), f"{API}contracts/", payload(county.villages[0]))
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["village"], body["amount"], body["scheduled"], body["received"]) == (
        county.villages[0].code, "12000.00", "12000.00", "0.00")
    assert [(row["amount"], row["outstanding"], row["overdue"]) for row in body["schedule"]] == [
        ("6000.00", "6000.00", True), ("6000.00", "6000.00", False)]
    assert body["overdue_amount"] == "6000.00"
    assert body["counterparty"] == FIRM
    assert Contract.objects.get().instalments.count() == 2


def test_a_patch_keeps_the_schedule_it_does_not_send(staff, village_a, contract_a):
    response = send(staff(village_a), "patch", f"{API}contracts/{contract_a.pk}/", {"title": "村东厂房租赁（续）"})
    assert response.status_code == 200, response.content
    assert response.json()["title"] == "村东厂房租赁（续）"
    assert len(response.json()["schedule"]) == 2


def test_refusals_name_their_field(staff, county, village_a):
    client = staff(village_a)
    village = county.villages[0]
    typed = post(client, f"{API}contracts/", payload(village, counterparty_kind="resident", counterparty_name="德甲"))
    assert typed.status_code == 400
    assert typed.json()["counterparty_resident"] == [english(PERSON_NEEDS_RESIDENT)]
    floating = post(client, f"{API}contracts/", payload(village, amount=12000.5))
    assert floating.status_code == 400 and "amount" in floating.json()
    bad_row = post(client, f"{API}contracts/", payload(village, schedule=[{"due_on": "2025-01-01", "amount": "-5"}]))
    assert bad_row.status_code == 400 and "schedule" in bad_row.json()
    twice = post(client, f"{API}contracts/", payload(village, schedule=[
        {"due_on": "2025-01-01", "amount": "5"}, {"due_on": "2025-01-01", "amount": "6"}]))
    assert twice.status_code == 400 and "schedule" in twice.json()
    assert not Contract.objects.exists()


def test_a_private_counterparty_is_a_resident_and_named_to_the_village_only(staff, county, village_a, clerk_a):
    resident = county.residents[0]
    response = post(staff(village_a), f"{API}contracts/", payload(
        county.villages[0], counterparty_kind="resident", counterparty_name="", counterparty_resident=resident.pk))
    assert response.status_code == 201, response.content
    assert response.json()["counterparty"] == resident.name
    seen = get(staff(clerk_a), f"{API}contracts/{response.json()['id']}/")
    assert seen["counterparty"] == "Private person (not named)"
    assert resident.name not in str(seen)


def test_a_payment_above_what_is_due_is_refused_and_one_within_it_recorded(staff, village_a, contract_a):
    client = staff(village_a)
    instalment = contract_a.instalments.order_by("due_on").first()
    above = post(client, f"{API}contract-payments/", {"instalment": instalment.pk, "received_on": TODAY.isoformat(),
                                                      "amount": "4000.01"})
    assert above.status_code == 400
    assert above.json()["amount"] == [english(PAYMENT_ABOVE_DUE, amount="4,000.01",
                                              due_on=instalment.due_on.isoformat(), left="4,000.00")]
    ok = post(client, f"{API}contract-payments/", {"instalment": instalment.pk, "received_on": TODAY.isoformat(),
                                                   "amount": "1500.00"})
    assert ok.status_code == 201, ok.content
    assert ContractPayment.objects.get().recorded_by == village_a
    schedule = get(client, f"{API}contracts/{contract_a.pk}/")["schedule"]
    assert (schedule[0]["received"], schedule[0]["outstanding"]) == ("1500.00", "2500.00")


def test_the_overdue_case_is_opened_once(staff, clerk_a, contract_a):
    client = staff(clerk_a)
    overdue = get(client, f"{API}instalments/", overdue="true")["results"]
    assert [row["due_on"] for row in overdue] == [(TODAY - 10 * DAY).isoformat()]
    url = f"{API}instalments/{overdue[0]['id']}/case/"
    before = Case.objects.count()
    first = post(client, url)
    assert first.status_code == 201, first.content
    second = post(client, url)
    assert second.status_code == 200
    assert second.json()["case"] == first.json()["case"] and second.json()["created"] is False
    assert Case.objects.count() == before + 1
    not_due = contract_a.instalments.order_by("due_on").last()
    refused = post(client, f"{API}instalments/{not_due.pk}/case/")
    assert refused.status_code == 400 and refused.json()["non_field_errors"]


def test_a_receivable_is_registered_and_collected(staff, county, clerk_a):
    client = staff(clerk_a)
    created = post(client, f"{API}debts/", {"village": county.villages[0].code, "kind": "receivable",
                                            "number": "ZQ-1", "counterparty_name": FIRM, "origin": "历年欠缴承包费",
                                            "opening_amount": "5000.00", "registered_on": TODAY.isoformat()})
    assert created.status_code == 201, created.content
    record = created.json()["id"]
    above = post(client, f"{API}debt-settlements/", {"record": record, "settled_on": TODAY.isoformat(),
                                                     "amount": "5000.01"})
    assert above.status_code == 400
    assert above.json()["amount"] == [english(SETTLE_ABOVE, amount="5,000.01", left="5,000.00")]
    assert post(client, f"{API}debt-settlements/", {"record": record, "settled_on": TODAY.isoformat(),
                                                    "amount": "2000.00"}).status_code == 201
    assert get(client, f"{API}debts/{record}/")["outstanding"] == "3000.00"
    assert [row["id"] for row in get(client, f"{API}debts/", outstanding="true")["results"]] == [record]
    assert DebtSettlement.objects.get().recorded_by == clerk_a


def test_township_b_sees_none_of_township_a(staff, clerk_b, contract_a):
    client = staff(clerk_b)
    instalment = contract_a.instalments.first()
    assert get(client, f"{API}contracts/")["results"] == []
    assert client.get(f"{API}contracts/{contract_a.pk}/").status_code == 404
    assert client.get(f"{API}instalments/{instalment.pk}/").status_code == 404
    assert post(client, f"{API}instalments/{instalment.pk}/case/").status_code == 404
    refused = post(client, f"{API}contract-payments/", {"instalment": instalment.pk, "received_on": "2025-01-01",
                                                        "amount": "1.00"})
    assert refused.status_code == 400 and "instalment" in refused.json()
    assert not ContractPayment.objects.exists()


def test_the_county_reads_but_does_not_write(staff, county, county_official, contract_a):
    client = staff(county_official)
    assert [row["id"] for row in get(client, f"{API}contracts/")["results"]] == [contract_a.pk]
    assert post(client, f"{API}contracts/", payload(county.villages[0])).status_code == 403
    assert post(client, f"{API}instalments/{contract_a.instalments.first().pk}/case/").status_code == 403


def test_the_list_costs_the_same_for_more_contracts(staff, county, village_a, clerk_a, contract_a):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = staff(clerk_a)
    with CaptureQueriesContext(connection) as one:
        get(client, f"{API}contracts/")
    for n in range(3):
        contract = contract_save(user=village_a, village=county.villages[0], number=f"HT-{n}", title="鱼塘租赁",
                                 kind="lease", subject_kind="water", counterparty_name=FIRM, amount=Decimal("100"),
                                 signed_on=TODAY, starts_on=TODAY, ends_on=TODAY + 100 * DAY)
        instalments_set(contract=contract, schedule=[(TODAY + DAY, "50"), (TODAY + 2 * DAY, "50")])
    with CaptureQueriesContext(connection) as four:
        assert len(get(client, f"{API}contracts/")["results"]) == 4
    assert len(four) == len(one)


def test_the_schema_documents_the_registers(tmp_path):
    from django.core.management import call_command

    out = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--file", str(out))
    schema = out.read_text()
    for path in ("contracts/{id}/", "instalments/{id}/case/", "contract-payments/", "debts/", "debt-settlements/"):
        assert f"/api/v1/ledger/{path}:" in schema

"""The decisions API: scope (404 outside), registering a matter (the village only), its steps recorded one POST
each (refused with the field's message when skipped, below quorum, or after a rejection), the households'
signatures of a six-step village, files of a step; and the vouchers API's payment gate (400 on "decision")."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from collective_economy.models import Decision, DecisionState, Step, VillageDecisionSetting, Voucher, VoucherStatus
from collective_economy.services.decisions import GATE_NOT_RESOLVED, GATE_REFUSED, NO_QUORUM, WRONG_STEP
from tests.helpers.api import get, post, send
from tests.helpers.cases import PNG_1PX
from tests.helpers.decisions import register, walk
from tests.helpers.ledger import accounts
from tests.helpers.messages import english
from tests.helpers.people import new_household

pytestmark = pytest.mark.django_db

API = "/api/v1/ledger/decisions/"
VOUCHERS = "/api/v1/ledger/vouchers/"
DAY = "2025-03-01"


def meeting(step, **extra):
    return {"step": step, "held_on": DAY, "expected": 10, "attended": 9, "votes_for": 8, "votes_against": 1,
            "minutes": f"{step} 会议记录", **extra}


@pytest.fixture
def decision(county, village_a):
    return register(county.villages[0], village_a)


def ids(payload) -> set:
    return {row["id"] for row in payload["results"]}


# --- Scope and reading ---------------------------------------------------------------------------


def test_township_b_sees_nothing_of_township_a(staff, clerk_b, clerk_a, decision, county):
    theirs = register(county.villages[1], clerk_b, title="外村事项")
    client = staff(clerk_b)
    assert ids(get(client, API)) == {theirs.pk}
    assert client.get(f"{API}{decision.pk}/").status_code == 404
    assert post(client, f"{API}{decision.pk}/steps/", meeting(Step.PROPOSAL)).status_code in (403, 404)
    assert ids(get(staff(clerk_a), API)) == {decision.pk}
    assert not decision.records.exists()


def test_a_decision_reads_with_its_procedure_and_steps(staff, village_a, decision):
    walk(decision, village_a, until=Step.DISCUSSION)
    body = get(staff(village_a), f"{API}{decision.pk}/")
    assert body["number"] == decision.number and body["amount"] == "80000.00" and body["state"] == "discussion"
    assert body["steps"] == ["proposal", "discussion", "review", "resolution", "publication", "result"]
    assert body["next_step"] == "review" and body["consultation"] is None
    assert [(r["step"], r["expected"], r["attended"], r["votes_for"], r["passed"]) for r in body["records"]] == [
        ("proposal", 10, 9, 8, True), ("discussion", 10, 9, 8, True)]


def test_the_list_filters_and_pays_constant_queries(staff, village_a, county, django_assert_max_num_queries):
    client = staff(village_a)
    first = walk(register(county.villages[0], village_a), village_a, until=Step.RESOLUTION)
    with CaptureQueriesContext(connection) as one:
        get(client, API)
    for n in range(6):
        walk(register(county.villages[0], village_a, title=f"事项{n}"), village_a, until=Step.REVIEW)
    with django_assert_max_num_queries(len(one)):
        assert len(get(client, API)["results"]) == 7
    assert ids(get(client, API, state="resolution")) == {first.pk}
    assert ids(get(client, API, search="事项3")) == {Decision.objects.get(title="事项3").pk}


# --- Writing -------------------------------------------------------------------------------------


def test_the_village_registers_a_matter_and_the_township_cannot(staff, village_a, clerk_a, county):
    data = {"village": county.villages[0].code, "title": "村道硬化", "description": "三组村道", "amount": "80000.00"}
    assert post(staff(clerk_a), API, data).status_code == 403
    response = post(staff(village_a), API, data)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["state"] == "draft" and body["next_step"] == "proposal" and body["number"].startswith("JC")
    assert Decision.objects.get().amount == 80000


def test_a_matter_of_another_village_or_with_a_float_is_refused(staff, village_a, county):
    client = staff(village_a)
    response = post(client, API, {"village": county.villages[1].code, "title": "外村", "description": "x"})
    assert response.status_code == 400 and "village" in response.json()
    response = post(client, API, {"village": county.villages[0].code, "title": "t", "description": "x",
                                  "amount": 80000.5})
    assert response.status_code == 400 and "amount" in response.json()
    assert not Decision.objects.exists()


def test_a_matter_is_corrected_while_registered(staff, village_a, decision):
    client = staff(village_a)
    response = send(client, "patch", f"{API}{decision.pk}/", {"title": "村道硬化（三组）"})
    assert response.status_code == 200 and response.json()["title"] == "村道硬化（三组）"
    assert response.json()["amount"] == "80000.00"
    walk(decision, village_a, until=Step.PROPOSAL)
    assert send(client, "patch", f"{API}{decision.pk}/", {"title": "再改"}).status_code == 400


def test_steps_are_recorded_in_order_only(staff, village_a, decision):
    client = staff(village_a)
    response = post(client, f"{API}{decision.pk}/steps/", meeting(Step.DISCUSSION))
    assert response.status_code == 400
    assert response.json()["step"] == [english(WRONG_STEP, expected=Step.PROPOSAL.label, step=Step.DISCUSSION.label)]
    response = post(client, f"{API}{decision.pk}/steps/", meeting(Step.PROPOSAL))
    assert response.status_code == 201 and response.json()["state"] == "proposal"
    assert post(client, f"{API}{decision.pk}/steps/", meeting(Step.PROPOSAL)).status_code == 400
    assert decision.records.count() == 1


def test_a_step_below_its_quorum_is_refused_and_a_failing_vote_rejects(staff, village_a, decision):
    client = staff(village_a)
    response = post(client, f"{API}{decision.pk}/steps/", meeting(Step.PROPOSAL, attended=5, votes_for=5,
                                                                   votes_against=0))
    assert response.status_code == 400
    assert response.json()["attended"] == [english(NO_QUORUM, attended=5, expected=10, rule="More than half")]
    response = post(client, f"{API}{decision.pk}/steps/", meeting(Step.PROPOSAL, votes_for=4, votes_against=5))
    assert response.status_code == 201 and response.json()["state"] == "rejected"
    assert response.json()["next_step"] is None
    response = post(client, f"{API}{decision.pk}/steps/", meeting(Step.DISCUSSION))
    assert response.status_code == 400 and "non_field_errors" in response.json()


def test_a_step_takes_its_files(staff, village_a, decision):
    client = staff(village_a)
    photo = SimpleUploadedFile("会议.png", PNG_1PX, content_type="image/png")
    response = client.post(f"{API}{decision.pk}/steps/", {**meeting(Step.PROPOSAL), "files": [photo]},
                           HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 201, response.content
    files = response.json()["records"][0]["files"]
    assert [(f["name"], f["content_type"]) for f in files] == [("会议.png", "image/png")]
    assert client.get(files[0]["url"]).status_code == 200


def test_households_sign_the_consultation(staff, village_a, county):
    village = county.villages[0]
    VillageDecisionSetting.objects.create(village=village, six_step=True)
    second = new_household(county, 0)
    decision = walk(register(village, village_a), village_a, until=Step.REVIEW)
    client = staff(village_a)
    url = f"{API}{decision.pk}/signatures/"
    assert post(client, url, {"signed_on": DAY}).status_code == 400
    response = post(client, url, {"households": [county.households[1].pk], "signed_on": DAY})
    assert response.status_code == 400 and "households" in response.json()
    response = post(client, url, {"households": [county.households[0].pk], "signed_on": DAY})
    assert response.status_code == 200 and response.json()["consultation"] == {"signed": 1, "total": 2}
    refused = post(client, f"{API}{decision.pk}/steps/", {"step": "consultation", "held_on": DAY, "minutes": "入户"})
    assert refused.status_code == 400 and "step" in refused.json()
    response = post(client, url, {"everyone": True, "signed_on": DAY, "agrees": False})
    assert response.json()["consultation"] == {"signed": 2, "total": 2}
    assert decision.signatures.get(household=second).agrees is False
    response = post(client, f"{API}{decision.pk}/steps/", {"step": "consultation", "held_on": DAY, "minutes": "入户"})
    assert response.status_code == 201 and response.json()["state"] == DecisionState.CONSULTATION


# --- The vouchers API's payment gate -------------------------------------------------------------


def _payment(client, book, amount="80000.00", decision=None):
    chart = accounts(book)
    data = {"book": book.pk, "date": "2025-03-10", "summary": "支付村道工程款", "decision": decision,
            "lines": [{"account": chart["153"].pk, "debit": amount, "credit": "0"},
                      {"account": chart["102"].pk, "debit": "0", "credit": amount}]}
    return post(client, VOUCHERS, data)


def _reviewed(staff, village_a, clerk_a, book, **kwargs) -> int:
    response = _payment(staff(village_a), book, **kwargs)
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    assert post(staff(village_a), f"{VOUCHERS}{pk}/submit/").status_code == 200
    assert post(staff(clerk_a), f"{VOUCHERS}{pk}/review/").status_code == 200
    return pk


def test_posting_a_large_payment_without_a_resolved_decision_answers_400(staff, village_a, clerk_a, book,
                                                                          county):
    pk = _reviewed(staff, village_a, clerk_a, book)
    response = post(staff(village_a), f"{VOUCHERS}{pk}/post/")
    assert response.status_code == 400
    assert response.json() == {"decision": [english(GATE_REFUSED, amount="80,000.00", threshold="50,000.00",
                                                    village=county.villages[0].display_name)]}
    assert Voucher.objects.get(pk=pk).status == VoucherStatus.REVIEWED
    # Citing a decision still under review does not do.
    pending = walk(register(county.villages[0], village_a), village_a, until=Step.REVIEW)
    pk = _reviewed(staff, village_a, clerk_a, book, decision=pending.pk)
    response = post(staff(village_a), f"{VOUCHERS}{pk}/post/")
    assert response.status_code == 400
    assert response.json()["decision"] == [english(GATE_NOT_RESOLVED, decision=pending.number, state="Reviewed")]


def test_another_villages_decision_is_not_found_for_a_voucher(staff, village_a, clerk_b, book, county):
    theirs = walk(register(county.villages[1], clerk_b), clerk_b, until=Step.RESOLUTION)
    response = _payment(staff(village_a), book, decision=theirs.pk)
    assert response.status_code == 400 and "decision" in response.json()
    assert not Voucher.objects.exists()


def test_a_large_payment_citing_a_resolved_decision_is_posted(staff, village_a, clerk_a, book, county):
    decision = walk(register(county.villages[0], village_a), village_a, until=Step.RESOLUTION)
    pk = _reviewed(staff, village_a, clerk_a, book, decision=decision.pk)
    response = post(staff(village_a), f"{VOUCHERS}{pk}/post/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "posted" and body["decision"] == decision.pk
    assert body["decision_number"] == decision.number


def test_a_patch_keeps_the_decision_it_does_not_send(staff, village_a, book, county):
    decision = walk(register(county.villages[0], village_a), village_a, until=Step.RESOLUTION)
    client = staff(village_a)
    pk = _payment(client, book, decision=decision.pk).json()["id"]
    response = send(client, "patch", f"{VOUCHERS}{pk}/", {"summary": "支付村道工程尾款"})
    assert response.status_code == 200 and response.json()["decision"] == decision.pk
    assert Voucher.objects.get(pk=pk).decision == decision
    assert datetime.date(2025, 3, 10) == Voucher.objects.get(pk=pk).date

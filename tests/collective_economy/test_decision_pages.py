"""The decision pages: the list (scoped, filtered, exported, constant queries), registering a matter, the
page of a decision (its procedure as a tracker, the next step's form with its quorum, refusals shown on the
form with what was typed kept), files of a step served only in scope, the households' signature sheet of a
six-step village, and the voucher's link to its decision (and its warning when a payment lacks one)."""

from decimal import Decimal

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from collective_economy.models import (
    Decision,
    DecisionFile,
    DecisionState,
    Quorum,
    Step,
    VillageDecisionSetting,
    Voucher,
)
from collective_economy.services.decisions import NO_QUORUM, payment_threshold, quorum_for
from tests.helpers.admin import listed, refused
from tests.helpers.cases import PNG_1PX
from tests.helpers.decisions import payment, register, said, walk
from tests.helpers.excel import read_export
from tests.helpers.people import new_household

pytestmark = pytest.mark.django_db

LIST = reverse("collective_economy:decision-list")
DAY = "2025-03-01"


def detail(decision) -> str:
    return reverse("collective_economy:decision-detail", args=[decision.pk])


def step_url(decision) -> str:
    return reverse("collective_economy:decision-step", args=[decision.pk])


@pytest.fixture
def decision(county, village_a):
    return register(county.villages[0], village_a)


def meeting(step, **extra):
    return {"step": step, "held_on": DAY, "expected": "10", "attended": "9", "votes_for": "8", "votes_against": "1",
            "abstentions": "0", "minutes": f"{step} 会议记录", **extra}


# --- The list ------------------------------------------------------------------------------------


def test_the_list_shows_the_decisions_of_the_village(staff, village_a, decision):
    page = staff(village_a).get(LIST).content.decode()
    assert f'data-decision="{decision.pk}"' in page and decision.title in page and "80,000.00" in page
    assert 'id="decision-create"' in page


def test_township_b_sees_nothing_of_township_a(staff, clerk_b, decision, village_a):
    walk(decision, village_a, until=Step.PROPOSAL)
    client = staff(clerk_b)
    page = client.get(LIST).content.decode()
    assert f'data-decision="{decision.pk}"' not in page and 'class="portal-empty"' in page
    assert client.get(detail(decision)).status_code == 404
    assert client.post(step_url(decision), meeting(Step.DISCUSSION)).status_code == 404
    assert client.get(LIST, {"export": "xlsx"}).status_code == 200
    record = decision.records.get()
    found = DecisionFile(record=record, name="会议.png", content_type="image/png", size=len(PNG_1PX),
                         uploaded_by=village_a)
    found.file.save("x.png", SimpleUploadedFile("x.png", PNG_1PX), save=True)
    assert client.get(reverse("collective_economy:decision-file", args=[found.pk])).status_code == 404
    decision.refresh_from_db()
    assert decision.state == DecisionState.PROPOSAL


def test_the_township_of_the_village_reads_but_does_not_record(staff, clerk_a, decision):
    client = staff(clerk_a)
    page = client.get(detail(decision)).content.decode()
    assert 'id="decision-waiting"' in page and 'id="step-form"' not in page
    assert 'id="decision-create"' not in client.get(LIST).content.decode()
    assert client.post(step_url(decision), meeting(Step.PROPOSAL)).status_code == 403
    assert client.get(reverse("collective_economy:decision-create")).status_code == 403
    assert not decision.records.exists()


def test_the_list_is_filtered_by_state_and_words(staff, village_a, decision, county):
    other = register(county.villages[0], village_a, title="修建文化广场", amount=None)
    walk(other, village_a, until=Step.RESOLUTION)
    client = staff(village_a)
    page = client.get(LIST, {"state": DecisionState.RESOLUTION}).content.decode()
    assert f'data-decision="{other.pk}"' in page and f'data-decision="{decision.pk}"' not in page
    page = client.get(LIST, {"q": "村道"}).content.decode()
    assert f'data-decision="{decision.pk}"' in page and f'data-decision="{other.pk}"' not in page


def test_the_list_pays_the_same_queries_for_many_decisions(staff, village_a, county, django_assert_max_num_queries):
    client = staff(village_a)
    walk(register(county.villages[0], village_a), village_a, until=Step.REVIEW)
    with CaptureQueriesContext(connection) as one:
        assert client.get(LIST).status_code == 200
    for n in range(10):
        walk(register(county.villages[0], village_a, title=f"事项{n}"), village_a, until=Step.PROPOSAL)
    with django_assert_max_num_queries(len(one)), CaptureQueriesContext(connection) as many:
        page = client.get(LIST).content.decode()
    assert len(many) == len(one)
    assert page.count('data-decision="') == 11 and "3/6" in page


def test_the_list_is_exported_to_excel(staff, village_a, decision):
    response = staff(village_a).get(LIST, {"export": "xlsx"})
    rows = read_export(response.content)
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert [cell.value for cell in rows[1]][:2] == [decision.number, decision.title]
    assert rows[1][4].value == 80000


# --- Registering a matter ------------------------------------------------------------------------


def test_a_village_registers_a_matter(staff, village_a, county):
    client = staff(village_a)
    assert client.get(reverse("collective_economy:decision-create")).status_code == 200
    response = client.post(reverse("collective_economy:decision-create"), {
        "village": county.villages[0].pk, "title": "村道硬化", "description": "三组村道", "amount": "80,000.00"})
    decision = Decision.objects.get()
    assert response.status_code == 302 and response.url == detail(decision)
    assert decision.amount == Decimal("80000.00") and decision.created_by == village_a
    assert decision.state == DecisionState.DRAFT and decision.number.startswith("JC")


def test_a_bad_amount_is_refused_on_its_field(staff, village_a, county):
    response = staff(village_a).post(reverse("collective_economy:decision-create"), {
        "village": county.villages[0].pk, "title": "村道硬化", "description": "三组村道", "amount": "八万"})
    assert response.status_code == 200 and "has-error" in response.content.decode()
    assert 'value="八万"' in response.content.decode() and not Decision.objects.exists()


def test_a_matter_is_corrected_while_registered_only(staff, village_a, decision):
    client = staff(village_a)
    edit = reverse("collective_economy:decision-edit", args=[decision.pk])
    response = client.post(edit, {"title": "村道硬化（三组）", "description": "改", "amount": ""})
    assert response.status_code == 302
    decision.refresh_from_db()
    assert decision.title == "村道硬化（三组）" and decision.amount is None
    walk(decision, village_a, until=Step.PROPOSAL)
    assert client.get(edit).status_code == 302
    assert 'id="decision-edit"' not in client.get(detail(decision)).content.decode()


# --- Recording the steps -------------------------------------------------------------------------


def test_the_page_shows_the_procedure_and_the_form_of_the_next_step_only(staff, village_a, decision):
    page = staff(village_a).get(detail(decision)).content.decode()
    assert page.count('data-status="next"') == 1 and 'data-step="proposal" data-status="next"' in page
    assert page.count('data-status="locked"') == 5
    assert 'name="step" value="proposal"' in page and 'id="quorum"' in page
    assert 'data-attendance="majority"' in page


def test_a_village_records_its_steps_one_after_the_other(staff, village_a, decision):
    client = staff(village_a)
    for step in (Step.PROPOSAL, Step.DISCUSSION, Step.REVIEW):
        response = client.post(step_url(decision), meeting(step))
        assert response.status_code == 302
    response = client.post(step_url(decision), meeting(Step.RESOLUTION, expected="20", attended="15",
                                                       votes_for="12", votes_against="3"))
    assert response.status_code == 302
    client.post(step_url(decision), {"step": Step.PUBLICATION, "held_on": DAY, "minutes": "村务公开栏张贴七天"})
    client.post(step_url(decision), {"step": Step.RESULT, "held_on": DAY, "minutes": "公开栏",
                                     "result_summary": "村道完工，支出 80,000.00 元"})
    decision.refresh_from_db()
    assert decision.state == DecisionState.RESULT and decision.result_summary == "村道完工，支出 80,000.00 元"
    page = client.get(detail(decision)).content.decode()
    assert page.count('data-status="done"') == 6 and 'id="step-form"' not in page
    assert 'id="decision-complete"' in page and "村务公开栏张贴七天" in page


def test_the_quorum_is_shown_with_the_count_the_village_had_last_time(staff, village_a, decision, county):
    walk(decision, village_a, until=Step.RESOLUTION)  # 10 expected at each meeting
    second = register(county.villages[0], village_a, title="修建文化广场")
    page = staff(village_a).get(detail(second)).content.decode()
    # 过半数 of the 10 expected last time: 6.
    assert 'name="expected" value="10"' in page
    assert '<strong id="quorum-needed">6</strong>' in page


def test_a_refused_step_is_shown_on_the_form_with_what_was_typed(staff, village_a, decision):
    walk(decision, village_a, until=Step.REVIEW)
    response = staff(village_a).post(step_url(decision), meeting(Step.RESOLUTION, expected="20", attended="13",
                                                                 votes_for="13", votes_against="0"))
    page = response.content.decode()
    assert response.status_code == 200
    assert said(NO_QUORUM, attended=13, expected=20, rule=str(Quorum.TWO_THIRDS.label)) in page
    assert 'value="13"' in page and "resolution 会议记录" in page
    assert '<strong id="quorum-needed">14</strong>' in page
    decision.refresh_from_db()
    assert decision.state == DecisionState.REVIEW


def test_a_step_from_a_page_shown_before_another_was_recorded_is_not_recorded(staff, village_a, decision):
    client = staff(village_a)
    client.post(step_url(decision), meeting(Step.PROPOSAL))
    response = client.post(step_url(decision), meeting(Step.PROPOSAL))
    assert response.status_code == 302
    assert decision.records.count() == 1


def test_a_failing_vote_ends_the_decision_on_the_page(staff, village_a, decision):
    client = staff(village_a)
    client.post(step_url(decision), meeting(Step.PROPOSAL, votes_for="3", votes_against="6"))
    decision.refresh_from_db()
    assert decision.state == DecisionState.REJECTED
    page = client.get(detail(decision)).content.decode()
    assert 'id="decision-rejected"' in page and 'data-status="failed"' in page and 'id="step-form"' not in page


def test_files_of_a_step_are_kept_and_served_to_users_in_scope_only(staff, village_a, clerk_a, decision, login,
                                                                    clerk_b):
    client = staff(village_a)
    photo = SimpleUploadedFile("会议照片.png", PNG_1PX, content_type="image/png")
    assert client.post(step_url(decision), {**meeting(Step.PROPOSAL), "attachments": [photo]}).status_code == 302
    found = DecisionFile.objects.get()
    assert found.name == "会议照片.png" and found.content_type == "image/png"
    url = reverse("collective_economy:decision-file", args=[found.pk])
    assert url in client.get(detail(decision)).content.decode()
    response = client.get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == PNG_1PX
    assert staff(clerk_a).get(url).status_code == 200
    assert staff(clerk_b).get(url).status_code == 404
    # A file that is neither an image nor a PDF is refused, and the step with it.
    text = SimpleUploadedFile("notes.exe", b"MZ not an image", content_type="image/png")
    client = staff(village_a)
    response = client.post(step_url(decision), {**meeting(Step.DISCUSSION), "attachments": [text]})
    assert response.status_code == 200 and "has-error" in response.content.decode()
    assert decision.records.count() == 1 and DecisionFile.objects.count() == 1
    # More files are added to a recorded step.
    more = SimpleUploadedFile("公示.png", PNG_1PX, content_type="image/png")
    record = decision.records.get()
    response = client.post(reverse("collective_economy:decision-file-add", args=[record.pk]), {"attachments": [more]})
    assert response.status_code == 302 and record.files.count() == 2


# --- The consultation (民议) ----------------------------------------------------------------------


def test_the_households_sign_on_the_sheet_before_the_consultation_is_recorded(staff, village_a, county):
    village = county.villages[0]
    VillageDecisionSetting.objects.create(village=village, six_step=True)
    second = new_household(county, 0)
    decision = walk(register(village, village_a), village_a, until=Step.REVIEW)
    client = staff(village_a)
    page = client.get(detail(decision)).content.decode()
    assert 'id="signature-table"' in page and 'data-signed="0" data-total="2"' in page
    assert 'id="step-record" disabled>' in page
    sign = reverse("collective_economy:decision-sign", args=[decision.pk])
    client.post(sign, {"household": [county.households[0].pk], "signed_on": DAY, "agrees": "1"})
    assert decision.signatures.count() == 1
    # The consultation is refused while one household has not signed.
    client.post(step_url(decision), {"step": Step.CONSULTATION, "held_on": DAY, "minutes": "入户征求意见"})
    decision.refresh_from_db()
    assert decision.state == DecisionState.REVIEW
    client.post(sign, {"everyone": "1", "signed_on": DAY, "agrees": "1"})
    assert set(decision.signatures.values_list("household", flat=True)) == {county.households[0].pk, second.pk}
    page = client.get(detail(decision)).content.decode()
    assert 'data-signed="2" data-total="2"' in page and 'id="signatures-complete"' in page
    response = client.post(step_url(decision), {"step": Step.CONSULTATION, "held_on": DAY, "minutes": "入户征求意见"})
    assert response.status_code == 302
    decision.refresh_from_db()
    assert decision.state == DecisionState.CONSULTATION
    assert decision.records.get(step=Step.CONSULTATION).attended == 2


def test_a_household_of_another_village_cannot_sign(staff, village_a, county):
    VillageDecisionSetting.objects.create(village=county.villages[0], six_step=True)
    decision = walk(register(county.villages[0], village_a), village_a, until=Step.REVIEW)
    staff(village_a).post(reverse("collective_economy:decision-sign", args=[decision.pk]),
                          {"household": [county.households[1].pk], "signed_on": DAY, "agrees": "1"})
    assert not decision.signatures.exists()


# --- The voucher and its decision ----------------------------------------------------------------


def test_the_voucher_page_says_a_large_payment_needs_a_decision(staff, village_a, book, clerk_a):
    voucher = payment(book, "80000.00", user=village_a)
    page = staff(village_a).get(reverse("collective_economy:voucher-detail", args=[voucher.pk])).content.decode()
    assert 'id="decision-needed"' in page and "80,000.00" in page and "50,000.00" in page
    small = payment(book, "3000.00", user=village_a)
    page = staff(village_a).get(reverse("collective_economy:voucher-detail", args=[small.pk])).content.decode()
    assert 'id="decision-needed"' not in page


def test_the_voucher_links_to_its_decision_and_the_decision_lists_it(staff, village_a, book, county):
    decision = walk(register(county.villages[0], village_a), village_a, until=Step.RESOLUTION)
    voucher = payment(book, "80000.00", user=village_a, decision=decision)
    client = staff(village_a)
    page = client.get(reverse("collective_economy:voucher-detail", args=[voucher.pk])).content.decode()
    assert 'id="voucher-decision"' in page and detail(decision) in page and 'id="decision-needed"' not in page
    page = client.get(detail(decision)).content.decode()
    assert reverse("collective_economy:voucher-detail", args=[voucher.pk]) in page


def test_the_entry_form_offers_the_villages_decisions_and_keeps_the_one_chosen(staff, village_a, book, county,
                                                                              clerk_b):
    ours = walk(register(county.villages[0], village_a), village_a, until=Step.RESOLUTION)
    theirs = register(county.villages[1], clerk_b, title="外村事项")
    client = staff(village_a)
    create = reverse("collective_economy:voucher-create", args=[book.pk])
    page = client.get(create).content.decode()
    assert f'value="{ours.pk}"' in page and "外村事项" not in page
    data = {"date": "2025-03-05", "attachments": "1", "action": "save", "decision": str(ours.pk),
            "line-summary": ["支付村道工程款", ""], "line-account": ["", ""],
            "line-account_text": ["153", "102"], "line-debit": ["80000", ""], "line-credit": ["", "80000"]}
    response = client.post(create, data)
    voucher = Voucher.objects.get(book=book)
    assert response.status_code == 302 and voucher.decision == ours
    # Another village's decision is not among the choices: refused on the field.
    response = client.post(create, {**data, "decision": str(theirs.pk)})
    assert response.status_code == 200 and Voucher.objects.filter(book=book).count() == 1
    edit = client.get(reverse("collective_economy:voucher-edit", args=[voucher.pk])).content.decode()
    assert f'<option value="{ours.pk}" selected>' in edit


# --- The admin -----------------------------------------------------------------------------------


def admin_url(model: str, view: str = "changelist", *args) -> str:
    return reverse(f"admin:collective_economy_{model}_{view}", args=args)


def test_the_admin_shows_township_b_nothing_of_township_a(staff, clerk_b, clerk_a, decision, county):
    VillageDecisionSetting.objects.create(village=county.villages[0], six_step=True)
    client = staff(clerk_b)
    assert listed(client.get(admin_url("decision"))) == []
    assert listed(client.get(admin_url("villagedecisionsetting"))) == []
    assert refused(client.get(admin_url("decision", "change", decision.pk)))
    assert listed(staff(clerk_a).get(admin_url("decision"))) == [decision]


def test_the_admin_registers_a_matter_through_the_service(admin_for_every_role, staff, village_a, county, decision):
    client = staff(village_a)
    response = client.post(admin_url("decision", "add"), {
        "village": county.villages[0].pk, "number": "", "title": "修建文化广场", "description": "广场 800 平方米",
        "amount": "120000.00", "records-TOTAL_FORMS": "0", "records-INITIAL_FORMS": "0"})
    assert response.status_code == 302, response.context["adminform"].form.errors
    added = Decision.objects.get(title="修建文化广场")
    assert added.created_by == village_a and int(added.number[-3:]) == int(decision.number[-3:]) + 1
    # Once a step is recorded, the matter is read only.
    walk(decision, village_a, until=Step.PROPOSAL)
    client.post(admin_url("decision", "change", decision.pk), {
        "title": "改了", "description": "改了", "amount": "1.00", "records-TOTAL_FORMS": "1",
        "records-INITIAL_FORMS": "1"})
    decision.refresh_from_db()
    assert decision.title == "村道硬化"


def test_the_county_sets_its_threshold_and_quorums(admin_for_every_role, staff, county_official, clerk_a, county):
    client = staff(county_official)
    response = client.post(admin_url("decisionrules", "add"), {
        "county": county.county.pk, "payment_threshold": "30000.00",
        "quorums-TOTAL_FORMS": "1", "quorums-INITIAL_FORMS": "0",
        "quorums-0-step": Step.RESOLUTION, "quorums-0-attendance": Quorum.ALL, "quorums-0-approval": Quorum.MAJORITY})
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert payment_threshold(county.villages[0]) == Decimal("30000.00")
    assert quorum_for(county.villages[0], Step.RESOLUTION) == (Quorum.ALL, Quorum.MAJORITY)
    # A township reads nothing of the county's rules, and changes nothing.
    assert listed(staff(clerk_a).get(admin_url("decisionrules"))) == []
    assert staff(clerk_a).post(admin_url("decisionrules", "add"), {
        "county": county.county.pk, "payment_threshold": "1.00", "quorums-TOTAL_FORMS": "0",
        "quorums-INITIAL_FORMS": "0"}).status_code == 403


def test_the_township_says_which_villages_decide_in_six_steps(staff, clerk_a, village_a, county):
    response = staff(clerk_a).post(admin_url("villagedecisionsetting", "add"), {
        "village": county.villages[0].pk, "six_step": "on"})
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert register(county.villages[0], village_a).six_step is True


# --- Publication ---------------------------------------------------------------------------------


def test_a_publication_recorded_on_the_page_shows_on_the_public_page_at_once(staff, village_a, decision, county,
                                                                            django_capture_on_commit_callbacks):
    cache.clear()
    try:
        walk(decision, village_a, until=Step.RESOLUTION)
        public = reverse("public:village", args=[county.villages[0].code])
        assert decision.title not in Client().get(public).content.decode()  # the page is now kept
        with django_capture_on_commit_callbacks(execute=True):  # the page is forgotten once the step commits
            response = staff(village_a).post(step_url(decision), {"step": Step.PUBLICATION, "held_on": DAY,
                                                                  "minutes": "村务公开栏张贴七天"})
        assert response.status_code == 302
        assert decision.title in Client().get(public).content.decode()
    finally:
        cache.clear()

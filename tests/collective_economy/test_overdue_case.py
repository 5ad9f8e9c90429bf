"""An overdue contract payment opens one case in the closed loop, once: asked twice (or by two clerks at the
same instant) it answers the same case; a payment not overdue is refused; the case is filed in the village's
grid and linked from the contract and the clean-up pages."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from collective_economy.models import ContractInstalment
from collective_economy.services.registers import (
    NOT_OVERDUE,
    contract_payment_record,
    contract_save,
    instalment_case_open,
    instalments_set,
)
from grid.models import Case
from tests.helpers.concurrency import run_at_once, successes
from tests.helpers.markers import requires_postgres
from tests.helpers.messages import english, errors_of

TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)


def contract_with_schedule(village, user, schedule, *, number="HT-2025-01", status="in_force"):
    contract = contract_save(user=user, village=village, number=number, title="东沟耕地发包", kind="letting",
                             subject_kind="land", counterparty_name="德昌绿源农业有限公司", amount=Decimal("12000"),
                             signed_on=TODAY - 400 * DAY, starts_on=TODAY - 400 * DAY, ends_on=TODAY + 900 * DAY,
                             status=status, location="东沟")
    instalments_set(contract=contract, schedule=schedule)
    return contract


@pytest.fixture
def overdue(county, village_a):
    """A payment due a month ago, 6,000 yuan, 1,000 of it received."""
    contract = contract_with_schedule(county.villages[0], village_a, [(TODAY - 30 * DAY, "6000.00"),
                                                                      (TODAY + 60 * DAY, "6000.00")])
    instalment = contract.instalments.get(due_on=TODAY - 30 * DAY)
    contract_payment_record(instalment=instalment, received_on=TODAY - 20 * DAY, amount="1000.00", user=village_a)
    return instalment


@pytest.mark.django_db
def test_an_overdue_payment_opens_one_case_once(county, clerk_a, overdue):
    before = Case.objects.count()
    case = instalment_case_open(instalment=overdue, user=clerk_a)
    again = instalment_case_open(instalment=overdue, user=clerk_a)
    assert again.pk == case.pk
    assert Case.objects.count() == before + 1
    overdue.refresh_from_db()
    assert overdue.case == case
    assert case.grid == county.grids[0]  # the village's grid, handled by its township
    assert case.handling_unit == county.township_a
    assert "5,000.00" in case.description and overdue.due_on.isoformat() in case.description


@pytest.mark.django_db
def test_a_payment_not_overdue_is_refused(county, clerk_a, village_a, overdue):
    not_due = overdue.contract.instalments.get(due_on=TODAY + 60 * DAY)
    with pytest.raises(ValidationError) as refused:
        instalment_case_open(instalment=not_due, user=clerk_a)
    assert errors_of(refused) == [english(NOT_OVERDUE, due_on=not_due.due_on.isoformat(), left="6,000.00")]
    # Paid in full is not overdue either.
    contract_payment_record(instalment=overdue, received_on=TODAY, amount="5000.00", user=village_a)
    with pytest.raises(ValidationError):
        instalment_case_open(instalment=overdue, user=clerk_a)
    assert not ContractInstalment.objects.filter(case__isnull=False).exists()


@pytest.mark.django_db
def test_a_terminated_contract_has_nothing_overdue(county, clerk_a, village_a):
    contract = contract_with_schedule(county.villages[0], village_a, [(TODAY - 30 * DAY, "6000.00")],
                                      status="terminated")
    with pytest.raises(ValidationError):
        instalment_case_open(instalment=contract.instalments.get(), user=clerk_a)


@pytest.mark.django_db
def test_the_button_opens_the_case_and_asking_twice_goes_to_the_same_one(staff, clerk_a, overdue):
    client = staff(clerk_a)
    cleanup = reverse("collective_economy:cleanup")
    url = reverse("collective_economy:instalment-case", args=[overdue.pk])
    page = client.get(cleanup).content.decode()
    assert f'action="{url}"' in page
    before = Case.objects.count()
    first = client.post(url, {"next": cleanup}, follow=True)
    overdue.refresh_from_db()
    case = overdue.case
    assert case is not None and Case.objects.count() == before + 1
    assert f"已立案催收，事件编号 {case.number}" in first.content.decode()
    assert reverse("grid:case-detail", args=[case.pk]) in first.content.decode()
    assert f'action="{url}"' not in first.content.decode()  # the button gave way to the case's link
    second = client.post(url, {"next": cleanup}, follow=True)
    assert Case.objects.count() == before + 1
    assert f"该笔款项已立案催收，事件编号 {case.number}" in second.content.decode()
    detail = client.get(reverse("collective_economy:contract-detail", args=[overdue.contract_id])).content.decode()
    assert reverse("grid:case-detail", args=[case.pk]) in detail
    assert client.get(reverse("grid:case-detail", args=[case.pk])).status_code == 200


@pytest.mark.django_db
def test_the_button_refuses_a_payment_not_overdue_with_a_message(staff, clerk_a, overdue):
    not_due = overdue.contract.instalments.get(due_on=TODAY + 60 * DAY)
    response = staff(clerk_a).post(reverse("collective_economy:instalment-case", args=[not_due.pk]), follow=True)
    assert response.status_code == 200
    assert "该笔款项未逾期" in response.content.decode()
    not_due.refresh_from_db()
    assert not_due.case_id is None


@pytest.mark.django_db
def test_who_may_open_the_case(staff, clerk_b, county_official, overdue):
    url = reverse("collective_economy:instalment-case", args=[overdue.pk])
    assert staff(clerk_b).post(url).status_code == 404  # township B: not in its area
    assert staff(county_official).post(url).status_code == 403  # the county reads the registers only
    overdue.refresh_from_db()
    assert overdue.case_id is None


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_two_clerks_asking_at_once_open_one_case(county, clerk_a, village_a):
    contract = contract_with_schedule(county.villages[0], village_a, [(TODAY - 30 * DAY, "6000.00")])
    instalment = contract.instalments.get()
    before = Case.objects.count()

    outcomes = run_at_once([lambda: instalment_case_open(instalment=instalment, user=clerk_a) for _ in range(4)])

    cases = {case.pk for case in successes(outcomes)}
    assert len(cases) == 1
    assert Case.objects.count() == before + 1
    instalment.refresh_from_db()
    assert instalment.case_id in cases

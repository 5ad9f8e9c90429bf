"""Household liaisons (联户长): who may look after which household, the limit, one liaison per household."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.utils import timezone, translation

from governance.models import Household, Level
from governance.services import household_create, household_update, orgunit_create
from grid.models import GridWorker, LiaisonHousehold
from grid.services.workers import LIAISON_LIMIT_MESSAGE, liaison_assign, liaison_unassign
from tests.helpers.concurrency import refusals, run_at_once, successes
from tests.helpers.markers import requires_postgres
from tests.helpers.people import new_liaison


def errors(exc_info, field):
    with translation.override("en"):
        return exc_info.value.message_dict[field]


def households(unit, count, start=1):
    return [
        household_create(number=f"{unit.code}{start + i:04d}", address=f"{i + 1}号", grid=unit) for i in range(count)
    ]


def test_assign_defaults_since_to_today(county):
    liaison = new_liaison(county.grids[0], 1)
    household = households(county.micro_grids[0], 1, start=10)[0]
    link = liaison_assign(liaison=liaison, household=household)
    assert (link.liaison, link.household, link.since) == (liaison, household, timezone.localdate())


def test_assigning_the_same_pair_again_changes_nothing_but_since(county):
    liaison, household = county.liaisons[0], county.households[0]
    link = LiaisonHousehold.objects.get(household=household)
    again = liaison_assign(liaison=liaison, household=household, since=datetime.date(2024, 2, 1))
    assert again.pk == link.pk
    assert LiaisonHousehold.objects.get(pk=link.pk).since == datetime.date(2024, 2, 1)


def test_second_liaison_for_a_household_is_refused(county):
    other = new_liaison(county.grids[0], 1)
    with pytest.raises(ValidationError) as exc:
        liaison_assign(liaison=other, household=county.households[0])
    assert errors(exc, "household") == [f"This household already has a liaison: {county.liaisons[0].name}."]
    assert LiaisonHousehold.objects.get(household=county.households[0]).liaison == county.liaisons[0]


def test_replace_moves_the_household_to_another_liaison(county):
    other = new_liaison(county.grids[0], 1)
    link = liaison_assign(liaison=other, household=county.households[0], replace=True)
    assert LiaisonHousehold.objects.get(household=county.households[0]) == link
    assert link.liaison == other
    assert not county.liaisons[0].liaison_households.exists()


@override_settings(LIAISON_MAX_HOUSEHOLDS=3)
def test_the_limit_is_refused_with_its_message(county):
    liaison = county.liaisons[0]  # already looks after one household
    more = households(county.micro_grids[0], 3, start=10)
    liaison_assign(liaison=liaison, household=more[0])
    liaison_assign(liaison=liaison, household=more[1])
    with pytest.raises(ValidationError) as exc:
        liaison_assign(liaison=liaison, household=more[2])
    assert errors(exc, "liaison") == ["A household liaison looks after at most 3 households."]
    with translation.override("en"):
        assert str(LIAISON_LIMIT_MESSAGE) % {"limit": 3} == errors(exc, "liaison")[0]
    # Releasing one makes room again.
    assert liaison_unassign(household=more[0])
    liaison_assign(liaison=liaison, household=more[2])
    assert liaison.liaison_households.count() == 3


def test_only_a_liaison_looks_after_households(county):
    with pytest.raises(ValidationError) as exc:
        liaison_assign(liaison=county.workers[0], household=households(county.micro_grids[0], 1, start=10)[0])
    assert errors(exc, "liaison") == ["Only a household liaison looks after households."]


def test_a_liaison_who_has_left_gets_no_households(county):
    liaison = new_liaison(county.grids[0], 1, end_date=datetime.date(2024, 6, 30))
    with pytest.raises(ValidationError) as exc:
        liaison_assign(liaison=liaison, household=households(county.micro_grids[0], 1, start=10)[0])
    assert errors(exc, "liaison") == ["This liaison has left the post."]


def test_household_outside_the_liaisons_grid_is_refused(county):
    with pytest.raises(ValidationError) as exc:
        liaison_assign(liaison=county.liaisons[0], household=households(county.micro_grids[1], 1, start=10)[0])
    assert errors(exc, "household") == ["The household lives outside the liaison's grid."]
    # Another grid of the same village is outside too: a liaison looks after his own grid.
    village = county.villages[0]
    grid2 = orgunit_create(
        code=f"{village.code}002", name="第二网格", level=Level.GRID, kind="grid_standard", parent=village
    )
    with pytest.raises(ValidationError):
        liaison_assign(liaison=county.liaisons[0], household=households(grid2, 1)[0])


def test_a_micro_grid_liaison_looks_after_households_of_his_grid(county):
    liaison = new_liaison(county.micro_grids[0], 1)
    on_the_grid = households(county.grids[0], 1, start=10)[0]
    assert liaison_assign(liaison=liaison, household=on_the_grid).liaison == liaison


def test_inactive_household_is_refused(county):
    household = households(county.micro_grids[0], 1, start=10)[0]
    household_update(household=household, is_active=False)
    with pytest.raises(ValidationError) as exc:
        liaison_assign(liaison=county.liaisons[0], household=household)
    assert errors(exc, "household") == ["This household is no longer active."]


def test_unassign(county):
    household = county.households[0]
    assert liaison_unassign(household=household) is True
    assert liaison_unassign(household=household) is False
    assert not LiaisonHousehold.objects.filter(household=household).exists()


# --- Concurrency (PostgreSQL) -----------------------------------------------------------------


@requires_postgres
@pytest.mark.django_db(transaction=True)
@override_settings(LIAISON_MAX_HOUSEHOLDS=3)
def test_concurrent_assignments_cannot_exceed_the_limit(county):
    liaison = GridWorker.objects.get(pk=county.liaisons[0].pk)  # already has one household
    more = households(county.micro_grids[0], 6, start=10)

    def assign(household):
        return lambda: liaison_assign(liaison=liaison, household=Household.objects.get(pk=household.pk))

    outcomes = run_at_once([assign(h) for h in more])
    results, failures = successes(outcomes), refusals(outcomes)
    assert len(results) == 2
    assert len(failures) == 4
    with translation.override("en"):
        assert {exc.message_dict["liaison"][0] for exc in failures} == {
            "A household liaison looks after at most 3 households."
        }
    assert LiaisonHousehold.objects.filter(liaison=liaison).count() == 3


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_liaisons_for_one_household_give_one_link_and_a_clear_message(county):
    household = households(county.micro_grids[0], 1, start=10)[0]
    liaisons = [new_liaison(county.grids[0], seq) for seq in range(1, 5)]

    def assign(liaison):
        return lambda: liaison_assign(liaison=liaison, household=household)

    outcomes = run_at_once([assign(liaison) for liaison in liaisons])
    results, failures = successes(outcomes), refusals(outcomes)
    assert len(results) == 1
    assert len(failures) == 3
    winner = LiaisonHousehold.objects.get(household=household).liaison
    with translation.override("en"):
        assert {exc.message_dict["household"][0] for exc in failures} == {
            f"This household already has a liaison: {winner.name}."
        }

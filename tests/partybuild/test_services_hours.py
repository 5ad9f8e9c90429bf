"""Volunteer service records: hours, points, no overlaps, ≤ 24 hours a day, and who sees the points (双积分)."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from partybuild.models import ServiceRecord
from partybuild.selectors import member_summary, points_by_branch, points_by_community
from partybuild.services import (
    POINTS_PER_HOUR,
    SERVICE_DAY_OVER_24,
    SERVICE_END_NOT_AFTER_START,
    SERVICE_IN_FUTURE,
    SERVICE_OVERLAP,
    SERVICE_TOO_SHORT,
    SERVICE_WISH_NOT_TAKEN_BY_MEMBER,
    SERVICE_WISH_OTHER_COMMUNITY,
    day_total_exceeded,
    overlapping,
    overlaps,
    service_hours,
    service_points,
    service_record_create,
    service_record_update,
    wish_post,
)
from tests.helpers.messages import english, errors_of
from tests.helpers.people import new_member, operator
from tests.helpers.wishes import advance

DAY = datetime.date(2025, 5, 4)
T = datetime.time


def record(county, member=None, *, start, end, date=DAY, community=None, wish=None, kind="public"):
    return service_record_create(
        member=member or county.members[0], community=community or county.villages[0], date=date,
        start_time=start, end_time=end, kind=kind, wish=wish, description="打扫楼道",
    )


# --- The rules as functions (shared with the importer) -------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "hours"),
    [(T(9), T(11, 30), "2.5"), (T(8, 0), T(8, 7), "0.1"), (T(8), T(8, 2), "0.0"), (T(0), T(23, 59, 59), "24.0"),
     (T(14), T(13), "-1.0"), (T(9, 10), T(10, 13), "1.1")],
)
def test_service_hours(start, end, hours):
    assert service_hours(start, end) == Decimal(hours)


def test_points_per_hour():
    assert POINTS_PER_HOUR == 10
    assert service_points(Decimal("2.5")) == 25
    assert service_points(Decimal("0.1")) == 1


def test_overlapping_pairs():
    a, b, c, d = (T(8), T(10), "a"), (T(9), T(11), "b"), (T(11), T(12), "c"), (T(7), T(13), "d")
    assert overlapping([a, c]) == []
    assert overlapping([c, b]) == []  # touching is not overlapping
    assert overlapping([a, b]) == [(a, b)]
    pairs = overlapping([a, b, c, d])
    assert {item[2] for pair in pairs for item in pair} == {"a", "b", "c", "d"}
    assert overlaps((T(8), T(10)), (T(9), T(9, 30))) and not overlaps((T(8), T(10)), (T(10), T(11)))


def test_day_total():
    assert not day_total_exceeded([Decimal("23.9")])
    assert not day_total_exceeded([Decimal(12), Decimal(12)])
    assert day_total_exceeded([Decimal(12), Decimal("12.1")])


# --- The service ---------------------------------------------------------------------------


def test_hours_and_points_are_computed(county):
    service = record(county, start=T(9), end=T(11, 30))
    assert service.hours == Decimal("2.5") and service.points == 25


@pytest.mark.parametrize(("start", "end"), [(T(11), T(9)), (T(9), T(9))])
def test_non_positive_hours_are_refused(county, start, end):
    with pytest.raises(ValidationError) as excinfo:
        record(county, start=start, end=end)
    assert errors_of(excinfo) == [english(SERVICE_END_NOT_AFTER_START)]


def test_a_few_minutes_are_too_short(county):
    with pytest.raises(ValidationError) as excinfo:
        record(county, start=T(9), end=T(9, 2))
    assert errors_of(excinfo) == [english(SERVICE_TOO_SHORT)]


def test_overlapping_service_is_refused_naming_the_other(county):
    member = county.members[0]
    record(county, start=T(9), end=T(11))
    with pytest.raises(ValidationError) as excinfo:
        record(county, start=T(10, 30), end=T(12), community=county.villages[0])
    assert errors_of(excinfo) == [
        english(
            SERVICE_OVERLAP, start="10:30", end="12:00", member=member.resident.name, other_start="09:00",
            other_end="11:00", date="2025-05-04",
        )
    ]
    # Back to back is fine; another day or another member is fine.
    record(county, start=T(11), end=T(12))
    record(county, start=T(10), end=T(12), date=DAY - datetime.timedelta(days=1))
    record(county, new_member(county), start=T(10), end=T(12))
    assert ServiceRecord.objects.filter(member=member, date=DAY).count() == 2


def test_more_than_24_hours_a_day_is_refused(county):
    """Only reachable through rows written around the service (an old import), but still refused."""
    member = county.members[0]
    for _ in range(2):
        ServiceRecord.objects.create(
            member=member, community=county.villages[0], date=DAY, start_time=T(0), end_time=T(12), hours=12,
            kind="patrol",
        )
    with pytest.raises(ValidationError) as excinfo:
        record(county, start=T(12), end=T(13))
    assert errors_of(excinfo) == [english(SERVICE_DAY_OVER_24, member=member.resident.name, hours="25.0",
                                          date="2025-05-04")]


def test_a_service_cannot_be_in_the_future(county):
    with pytest.raises(ValidationError) as excinfo:
        record(county, start=T(9), end=T(10), date=datetime.date.today() + datetime.timedelta(days=2))
    assert errors_of(excinfo) == [english(SERVICE_IN_FUTURE)]


def test_a_service_for_a_wish_is_by_its_taker_in_its_community(county):
    member, other = county.members[0], new_member(county)
    wish = wish_post(user=operator(), community=county.villages[0], title="送米", category="daily_life",
                     household=county.households[0])
    wish = advance(wish, "complete", member=member)
    with pytest.raises(ValidationError) as excinfo:
        record(county, other, start=T(9), end=T(10), wish=wish)
    assert errors_of(excinfo) == [
        english(SERVICE_WISH_NOT_TAKEN_BY_MEMBER, wish=wish.title, member=other.resident.name)
    ]
    with pytest.raises(ValidationError) as excinfo:
        record(county, member, start=T(9), end=T(10), wish=wish, community=county.villages[1])
    assert errors_of(excinfo) == [
        english(SERVICE_WISH_OTHER_COMMUNITY, community=county.villages[0].display_name)
    ]
    service = record(county, member, start=T(9), end=T(10), wish=wish)
    assert list(wish.services.all()) == [service]


def test_update_recomputes_and_rechecks(county):
    first = record(county, start=T(8), end=T(9))
    second = record(county, start=T(9), end=T(10))
    updated = service_record_update(record=second, end_time=T(11, 30))
    assert updated.hours == Decimal("2.5") and updated.points == 25
    with pytest.raises(ValidationError) as excinfo:
        service_record_update(record=first, end_time=T(9, 30))
    assert "start_time" in excinfo.value.message_dict
    assert service_record_update(record=first, end_time=T(9)).hours == Decimal("1.0")  # itself is no clash


# --- Double points: the community and the member's branch both see them ---------------------


@pytest.fixture
def served_in_b(county):
    """Township A's in-service member serves in township B's village (where he might live)."""
    return record(county, county.members[0], start=T(14), end=T(16), community=county.villages[1])


def test_the_record_is_seen_by_the_community_and_by_the_branch(county, served_in_b, clerk_a, clerk_b):
    assert ServiceRecord.objects.visible_to(clerk_b).filter(pk=served_in_b.pk).exists()
    assert ServiceRecord.objects.visible_to(clerk_a).filter(pk=served_in_b.pk).exists()


def test_points_by_community_and_by_branch(county, served_in_b, clerk_a, clerk_b, county_official):
    by_community_b = {row["community"]: row for row in points_by_community(fetched_by=clerk_b)}
    assert by_community_b[county.villages[1]]["points"] == 20
    assert county.villages[0] not in by_community_b
    by_branch_a = {row["organization"]: row for row in points_by_branch(fetched_by=clerk_a)}
    assert by_branch_a[county.branches[0]]["points"] == 20  # the cast's record has no points (not via the service)
    assert by_branch_a[county.branches[0]]["hours"] == Decimal("4.0")
    assert county.branches[0] not in {row["organization"] for row in points_by_branch(fetched_by=clerk_b)}
    everything = points_by_community(fetched_by=county_official, date_from=DAY, date_to=DAY)
    assert [(row["community"], row["points"], row["members"]) for row in everything] == [(county.villages[1], 20, 1)]


def test_member_summary(county, served_in_b, clerk_a, clerk_b):
    member = county.members[0]
    summary = member_summary(member=member, fetched_by=clerk_a)
    assert summary["active_registration"].community == county.villages[0]
    assert [claim.post for claim in summary["claimed_posts"]] == ["patrol"]
    assert summary["services_count"] == 2 and summary["total_hours"] == Decimal("4.0") and summary["points"] == 20
    assert list(summary["services"])[0] == served_in_b
    from partybuild.models import PartyMember

    with pytest.raises(PartyMember.DoesNotExist):
        member_summary(member=member, fetched_by=clerk_b)

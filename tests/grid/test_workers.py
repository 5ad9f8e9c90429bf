"""Grid workers: the rules of the roster, A/B post pairs (互为顶岗), leaving the post, vacancies, coverage."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from governance.models import Level
from governance.services import household_create, orgunit_create, resident_create
from grid.models import GridWorker, LiaisonHousehold, Post, WorkerType
from grid.selectors.workers import coverage_summary, filter_workers, vacancies, worker_list
from grid.services.workers import (
    gridworker_create,
    gridworker_end,
    gridworker_set_backup,
    gridworker_update,
)
from tests.helpers.people import make_id_number

START = datetime.date(2024, 1, 1)


def errors(exc_info, field):
    """The English messages of one field of a ValidationError."""
    with translation.override("en"):
        return exc_info.value.message_dict[field]


def new_worker(unit, seq, worker_type=WorkerType.MICRO, **extra):
    return gridworker_create(
        name=f"员{seq}",
        id_number=make_id_number("513424", "19900101", seq),
        phone="13800000000",
        worker_type=worker_type,
        unit=unit,
        start_date=START,
        **extra,
    )


def reload(worker):
    return GridWorker.objects.get(pk=worker.pk)


@pytest.fixture
def second_micro_grid(county):
    """A second micro-grid in village A (so two micro-grid workers of one village can pair up)."""
    grid = county.grids[0]
    return orgunit_create(
        code=f"{grid.code}02", name="第二微网格", level=Level.MICRO_GRID, kind="micro_grid", parent=grid
    )


# --- Creating and validating ----------------------------------------------------------------


def test_create_normalises_the_id_number_and_saves(county):
    worker = gridworker_create(
        name="张三",
        id_number=make_id_number("513424", "19900101", 7).lower(),
        phone="13800000000",
        worker_type=WorkerType.MICRO,
        unit=county.micro_grids[0],
        start_date=START,
    )
    assert reload(worker).id_number == make_id_number("513424", "19900101", 7)
    assert worker.is_current


def test_micro_grid_worker_on_a_grid_is_refused(county):
    with pytest.raises(ValidationError) as exc:
        new_worker(county.grids[0], 1, WorkerType.MICRO)
    assert errors(exc, "unit") == ["A micro-grid worker must serve a micro-grid."]


def test_full_time_worker_on_a_micro_grid_is_refused(county):
    with pytest.raises(ValidationError) as exc:
        new_worker(county.micro_grids[0], 1, WorkerType.FULL_TIME)
    assert errors(exc, "unit") == ["A full-time or part-time grid worker serves a grid."]


def test_worker_on_a_village_is_refused(county):
    with pytest.raises(ValidationError) as exc:
        new_worker(county.villages[0], 1, WorkerType.BUILDING_HEAD)
    assert errors(exc, "unit") == ["A grid worker serves a grid or a micro-grid."]


def test_end_before_start_is_refused(county):
    with pytest.raises(ValidationError) as exc:
        new_worker(county.micro_grids[0], 1, end_date=START - datetime.timedelta(days=1))
    assert errors(exc, "end_date") == ["The end date is before the start date."]


def test_end_in_the_future_is_refused(county):
    with pytest.raises(ValidationError) as exc:
        new_worker(county.micro_grids[0], 1, end_date=timezone.localdate() + datetime.timedelta(days=1))
    assert errors(exc, "end_date") == ["The end date cannot be in the future."]


def test_duplicate_id_number_is_refused(county):
    existing = county.workers[0]
    with pytest.raises(ValidationError) as exc:
        gridworker_create(
            name="重复",
            id_number=existing.id_number,
            phone="13800000000",
            worker_type=WorkerType.MICRO,
            unit=county.micro_grids[0],
            start_date=START,
        )
    assert "id_number" in exc.value.message_dict


def test_linking_the_party_member_record_marks_a_party_member(county):
    member = county.members[0]
    worker = gridworker_create(
        name=member.resident.name,
        id_number=member.resident.id_number,
        phone="13800000000",
        worker_type=WorkerType.MICRO,
        unit=county.micro_grids[0],
        start_date=START,
        resident=member.resident,
        party_member=member,
    )
    assert reload(worker).is_party_member
    other = new_worker(county.micro_grids[0], 2)
    assert not other.is_party_member
    gridworker_update(worker=other, is_party_member=True)
    assert reload(other).is_party_member


def test_someone_elses_party_member_record_or_resident_is_refused(county):
    member = county.members[0]
    with pytest.raises(ValidationError) as exc:
        new_worker(county.micro_grids[0], 1, party_member=member, resident=member.resident)
    assert errors(exc, "party_member") == ["This party member record belongs to someone else (the ID numbers differ)."]
    assert errors(exc, "resident") == ["This resident has another ID number."]


def test_update_validates_like_create(county):
    worker = county.workers[0]
    with pytest.raises(ValidationError) as exc:
        gridworker_update(worker=worker, unit=county.grids[0])
    assert errors(exc, "unit") == ["A micro-grid worker must serve a micro-grid."]
    assert reload(worker).unit == county.micro_grids[0]
    with pytest.raises(TypeError):
        gridworker_update(worker=worker, lft=3)


def test_a_liaison_with_households_keeps_his_type(county):
    liaison = county.liaisons[0]
    with pytest.raises(ValidationError) as exc:
        gridworker_update(worker=liaison, worker_type=WorkerType.PART_TIME)
    assert errors(exc, "worker_type") == ["This liaison still looks after households; unassign them first."]


# --- A/B posts and backups (互为顶岗) ----------------------------------------------------------


def test_backup_pairing_is_mutual_with_opposite_posts(county, second_micro_grid):
    a = county.workers[0]
    b = new_worker(second_micro_grid, 1)
    gridworker_set_backup(worker=a, backup=b, post=Post.A)
    a, b = reload(a), reload(b)
    assert (a.backup, a.post) == (b, Post.A)
    assert (b.backup, b.post) == (a, Post.B)


def test_create_with_a_backup_pairs_both(county, second_micro_grid):
    a = county.workers[0]
    b = new_worker(second_micro_grid, 1, post=Post.B, backup=a)
    assert reload(a).backup == b
    assert reload(a).post == Post.A


def test_backup_in_another_village_is_refused(county):
    a, b = county.workers
    with pytest.raises(ValidationError) as exc:
        gridworker_set_backup(worker=a, backup=b, post=Post.A)
    assert errors(exc, "backup") == ["The backup must work in the same village or community."]
    assert reload(a).backup is None and reload(b).backup is None


def test_self_backup_is_refused(county):
    a = county.workers[0]
    with pytest.raises(ValidationError) as exc:
        gridworker_set_backup(worker=a, backup=a, post=Post.A)
    assert errors(exc, "backup") == ["A worker cannot be his own backup."]


def test_backup_needs_a_post(county, second_micro_grid):
    a = county.workers[0]
    b = new_worker(second_micro_grid, 1)
    with pytest.raises(ValidationError) as exc:
        gridworker_set_backup(worker=a, backup=b, post="")
    assert errors(exc, "post") == ["A worker with a backup needs an A or B post."]


def test_backup_who_has_left_is_refused(county, second_micro_grid):
    a = county.workers[0]
    b = new_worker(second_micro_grid, 1, end_date=START + datetime.timedelta(days=30))
    with pytest.raises(ValidationError) as exc:
        gridworker_set_backup(worker=a, backup=b, post=Post.A)
    assert errors(exc, "backup") == ["The backup worker has left the post."]


def test_re_pairing_unlinks_the_old_partners(county, second_micro_grid):
    a = county.workers[0]
    b = new_worker(second_micro_grid, 1)
    c = new_worker(second_micro_grid, 2, worker_type=WorkerType.BUILDING_HEAD)
    d = new_worker(county.micro_grids[0], 3, worker_type=WorkerType.UNIT_HEAD)
    gridworker_set_backup(worker=a, backup=b, post=Post.A)
    gridworker_set_backup(worker=c, backup=d, post=Post.A)
    gridworker_set_backup(worker=a, backup=c, post=Post.B)
    a, b, c, d = map(reload, (a, b, c, d))
    assert (a.backup, a.post, c.backup, c.post) == (c, Post.B, a, Post.A)
    # b and d lost their partners; they keep their posts and need new backups.
    assert (b.backup, b.post) == (None, Post.B)
    assert (d.backup, d.post) == (None, Post.B)


def test_clearing_a_backup_clears_both_sides(county, second_micro_grid):
    a = county.workers[0]
    b = new_worker(second_micro_grid, 1)
    gridworker_set_backup(worker=a, backup=b, post=Post.A)
    gridworker_set_backup(worker=b, backup=None)
    a, b = reload(a), reload(b)
    assert a.backup is None and b.backup is None
    assert (a.post, b.post) == (Post.A, Post.B)


def test_changing_the_post_moves_the_partner_to_the_other_post(county, second_micro_grid):
    a = county.workers[0]
    b = new_worker(second_micro_grid, 1)
    gridworker_set_backup(worker=a, backup=b, post=Post.A)
    gridworker_update(worker=a, post=Post.B)
    assert reload(b).post == Post.A


def test_moving_a_paired_worker_to_another_village_is_refused(county, second_micro_grid):
    a = county.workers[0]
    b = new_worker(second_micro_grid, 1)
    gridworker_set_backup(worker=a, backup=b, post=Post.A)
    with pytest.raises(ValidationError) as exc:
        gridworker_update(worker=a, unit=county.micro_grids[1])
    assert errors(exc, "backup") == ["The backup must work in the same village or community."]


# --- Leaving the post ---------------------------------------------------------------------------


def test_end_dissolves_the_pair_and_releases_the_liaison_households(county, second_micro_grid):
    a = county.workers[0]
    b = new_worker(second_micro_grid, 1)
    gridworker_set_backup(worker=a, backup=b, post=Post.A)
    gridworker_end(worker=a, end_date=datetime.date(2024, 6, 30))
    a, b = reload(a), reload(b)
    assert a.end_date == datetime.date(2024, 6, 30) and not a.is_current
    assert a.backup is None and b.backup is None and b.post == Post.B

    liaison = county.liaisons[0]
    assert LiaisonHousehold.objects.filter(liaison=liaison).exists()
    gridworker_end(worker=liaison, end_date=datetime.date(2024, 6, 30))
    assert not LiaisonHousehold.objects.filter(liaison=liaison).exists()


def test_end_before_start_or_twice_is_refused(county):
    worker = county.workers[0]
    with pytest.raises(ValidationError) as exc:
        gridworker_end(worker=worker, end_date=datetime.date(2022, 12, 31))
    assert errors(exc, "end_date") == ["The end date is before the start date."]
    gridworker_end(worker=worker, end_date=datetime.date(2024, 6, 30))
    with pytest.raises(ValidationError) as exc:
        gridworker_end(worker=worker, end_date=datetime.date(2024, 7, 1))
    assert errors(exc, "end_date") == ["This worker left the post on 2024-06-30."]


def test_ending_through_update_has_the_same_effects(county, second_micro_grid):
    a = county.workers[0]
    b = new_worker(second_micro_grid, 1)
    gridworker_set_backup(worker=a, backup=b, post=Post.A)
    gridworker_update(worker=b, end_date=datetime.date(2024, 6, 30))
    assert reload(a).backup is None and reload(b).backup is None


# --- Lists, vacancies, coverage ---------------------------------------------------------------


def test_worker_list_is_scoped_and_filtered(county, other_county, clerk_a, clerk_b, county_official):
    assert set(worker_list(fetched_by=clerk_b)) == {county.workers[1], county.liaisons[1]}
    assert set(worker_list(fetched_by=county_official)) == {*county.workers, *county.liaisons}
    micro = worker_list(fetched_by=clerk_a, filters={"worker_type": WorkerType.MICRO})
    assert list(micro) == [county.workers[0]]
    assert list(worker_list(fetched_by=clerk_a, filters={"search": county.liaisons[0].id_number})) == [
        county.liaisons[0]
    ]
    # A partial ID number finds nothing: it would let a masked user guess digits.
    assert not worker_list(fetched_by=clerk_a, filters={"search": county.liaisons[0].id_number[:10]}).exists()
    in_grid = worker_list(fetched_by=clerk_a, filters={"unit": county.grids[0], "current": True})
    assert list(in_grid) == [county.liaisons[0], county.workers[0]]  # by unit code: the grid, then its micro-grid
    assert in_grid[0].n_households == 1
    gridworker_end(worker=county.workers[0], end_date=datetime.date(2024, 6, 30))
    assert list(filter_workers(worker_list(fetched_by=clerk_a), current=False)) == [county.workers[0]]
    assert list(worker_list(fetched_by=clerk_a, filters={"post": "none", "is_party_member": True})) == []


def test_vacancies_are_grids_and_micro_grids_without_a_current_worker(county, clerk_a):
    grid, micro = county.grids[0], county.micro_grids[0]
    # The cast: a micro-grid worker serves the micro-grid; the grid has only a liaison.
    assert [(u.code, u.level) for u in vacancies(fetched_by=clerk_a)] == [(grid.code, Level.GRID)]
    gridworker_end(worker=county.workers[0], end_date=datetime.date(2024, 6, 30))
    rows = list(vacancies(fetched_by=clerk_a))
    assert [u.code for u in rows] == [grid.code, micro.code]
    micro_row = rows[1]
    assert (micro_row.grid_name, micro_row.village_name, micro_row.township_name) == (
        grid.name,
        county.villages[0].short_name,
        county.township_a.name,
    )
    assert (rows[0].grid_name, rows[0].village_name) == ("", county.villages[0].short_name)
    new_worker(grid, 9, WorkerType.PART_TIME)
    assert [u.code for u in vacancies(fetched_by=clerk_a)] == [micro.code]
    assert list(vacancies(fetched_by=clerk_a, level=Level.GRID)) == []
    assert list(vacancies(fetched_by=clerk_a, level=Level.VILLAGE)) == []


def test_vacancies_are_scoped(county, other_county, clerk_b, county_official):
    assert {u.code for u in vacancies(fetched_by=clerk_b)} == {county.grids[1].code}
    assert {u.code for u in vacancies(fetched_by=county_official)} == {g.code for g in county.grids}
    assert {u.code for u in vacancies(fetched_by=county_official, within=county.township_a)} == {county.grids[0].code}


def test_vacancies_are_one_query(county, county_official, django_assert_num_queries):
    with django_assert_num_queries(1):
        rows = list(vacancies(fetched_by=county_official))
        [(row.village_name, row.township_name) for row in rows]


def test_coverage_summary(county, county_official, clerk_b):
    summary = coverage_summary(unit=county.county, fetched_by=county_official)
    assert (summary["grids"], summary["grids_staffed"], summary["grids_vacant"]) == (2, 0, 2)
    assert (summary["micro_grids"], summary["micro_grids_staffed"], summary["micro_grids_vacant"]) == (2, 2, 0)
    by_type = {row["type"]: row["count"] for row in summary["by_type"]}
    assert by_type[WorkerType.MICRO] == 2 and by_type[WorkerType.LIAISON] == 2 and by_type[WorkerType.FULL_TIME] == 0
    assert summary["workers"] == 4
    assert (summary["households"], summary["households_with_liaison"]) == (2, 2)
    assert coverage_summary(unit=county.township_a, fetched_by=clerk_b) == {}
    assert coverage_summary(unit=county.township_b, fetched_by=clerk_b)["workers"] == 2


def test_party_share_of_micro_grid_workers_dechang(county, county_official):
    """Dechang: 2218 micro-grid workers, 887 of them party members, 40.0%."""
    micro = county.micro_grids[0]
    GridWorker.objects.filter(worker_type=WorkerType.MICRO).delete()
    GridWorker.objects.bulk_create(
        GridWorker(
            name=f"员{i}",
            id_number=make_id_number("513424", f"1970{1 + i // 900:02d}01", i % 900),
            phone="13800000000",
            worker_type=WorkerType.MICRO,
            unit=micro,
            start_date=START,
            is_party_member=i < 887,
        )
        for i in range(2218)
    )
    summary = coverage_summary(unit=county.county, fetched_by=county_official)
    micro_row = next(row for row in summary["by_type"] if row["type"] == WorkerType.MICRO)
    assert (micro_row["count"], micro_row["party_members"]) == (2218, 887)
    assert summary["micro_party_share"] == 40.0
    assert summary["party_share"] == round(100 * 887 / 2220, 1)  # the two liaisons are not party members


def test_coverage_counts_households_with_a_liaison(county, county_official):
    micro = county.micro_grids[0]
    household_create(number=f"{micro.code}0099", address="新户", grid=micro)
    resident_create(household=county.households[0], name="新人", id_number=make_id_number("513424", "20000101", 55))
    summary = coverage_summary(unit=county.township_a, fetched_by=county_official)
    assert (summary["households"], summary["households_with_liaison"]) == (2, 1)

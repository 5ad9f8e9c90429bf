"""Excel rosters of the grid app: grid workers (with their A/B pairs) and household liaisons."""

import pytest
from django.utils import translation

from governance.models import Household
from governance.rosters import get_spec, roster_export, roster_import
from grid.models import GridWorker, LiaisonHousehold, Post, WorkerType
from grid.services.workers import LIAISON_LIMIT_MESSAGE
from tests.helpers.excel import exported, fill_template, headers, read_export, xlsx
from tests.helpers.people import make_id_number

WORKER = ["name", "id_number", "phone", "worker_type", "unit", "start_date", "post", "backup"]


@pytest.fixture
def english():
    with translation.override("en"):
        yield


def worker_row(name, seq, unit, *, worker_type="micro", post="", backup=""):
    return [name, make_id_number("513424", "19900202", seq), "13700000000", worker_type, unit.code, "2026-01-05",
            post, backup]


def test_grid_workers_template_round_trip(county, admin_user):
    micro, grid = county.micro_grids[0], county.grids[0]
    content = fill_template("grid_workers", [
        {"name": "王五", "id_number": make_id_number("513424", "19900202", 1), "phone": "13700000001",
         "worker_type": str(WorkerType.MICRO.label), "unit": micro.code, "start_date": "2026/1/5"},
        {"name": "赵六", "id_number": make_id_number("513424", "19900202", 2), "phone": "13700000002",
         "worker_type": "full_time", "unit": grid.code, "start_date": "2026-01-05", "is_party_member": "是"},
    ])
    report = roster_import(kind="grid_workers", file=content, user=admin_user)
    assert report.ok and report.new == 2, str(report)
    names = {row[str(get_spec("grid_workers").column("name").header)]
             for row in exported("grid_workers", GridWorker.objects.all(), admin_user)}
    assert {"王五", "赵六"} <= names
    assert GridWorker.objects.get(name="赵六").is_party_member


def test_liaisons_template_round_trip(county, admin_user):
    liaison = county.liaisons[0]
    LiaisonHousehold.objects.all().delete()
    household = county.households[0]
    content = fill_template("liaisons", [{"household": household.number, "liaison": liaison.id_number}])
    report = roster_import(kind="liaisons", file=content, user=admin_user)
    assert report.new == 1, str(report)
    rows = exported("liaisons", LiaisonHousehold.objects.all(), admin_user)
    assert [row[str(get_spec("liaisons").column("household").header)] for row in rows] == [household.number]
    assert roster_import(kind="liaisons", file=content, user=admin_user).unchanged == 1


def test_a_worker_named_like_a_formula_comes_out_inert(county, admin_user):
    GridWorker.objects.filter(pk=county.workers[0].pk).update(name='=HYPERLINK("http://x","y")')
    content = roster_export(kind="grid_workers", queryset=GridWorker.objects.filter(pk=county.workers[0].pk),
                            user=admin_user)
    cell = read_export(content)[1][0]
    assert cell.data_type != "f" and cell.value.startswith("'=")


def test_backing_up_is_mutual_and_within_one_village(county, english):
    micro = county.micro_grids[0]
    partner_id = make_id_number("513424", "19900202", 11)
    rows = [
        worker_row("甲", 10, micro, post="A", backup=partner_id),
        worker_row("乙", 11, micro),
    ]
    report = roster_import(kind="grid_workers", file=xlsx(headers("grid_workers", WORKER), rows))
    assert report.ok and report.new == 2, str(report)
    first, second = GridWorker.objects.get(name="甲"), GridWorker.objects.get(name="乙")
    assert (first.backup, first.post) == (second, Post.A)
    assert (second.backup, second.post) == (first, Post.B)

    # A backup in another village is refused, with the model's message.
    other = county.workers[1]  # township B
    rows = [worker_row("甲", 10, micro, post="A", backup=other.id_number)]
    report = roster_import(kind="grid_workers", file=xlsx(headers("grid_workers", WORKER), rows))
    assert [e.message for e in report.errors] == ["The backup must work in the same village or community."]
    rows = [worker_row("甲", 10, micro, post="A", backup=make_id_number("513424", "19900202", 10))]
    report = roster_import(kind="grid_workers", file=xlsx(headers("grid_workers", WORKER), rows))
    assert [e.message for e in report.errors] == ["A worker cannot be his own backup."]
    first.refresh_from_db()
    assert first.backup == second


def test_worker_rules_of_the_model(county, english):
    rows = [worker_row("丙", 20, county.grids[0], worker_type="micro")]
    report = roster_import(kind="grid_workers", file=xlsx(headers("grid_workers", WORKER), rows))
    assert [e.message for e in report.errors] == ["A micro-grid worker must serve a micro-grid."]


def test_a_worker_is_linked_to_his_party_member_record(county):
    resident = county.residents[0]  # a party member of the cast
    rows = [[resident.name, resident.id_number, "13700000000", "micro", county.micro_grids[0].code, "2026-01-05",
             "", ""]]
    report = roster_import(kind="grid_workers", file=xlsx(headers("grid_workers", WORKER), rows))
    assert report.ok, str(report)
    worker = GridWorker.objects.get(id_number=resident.id_number)
    assert (worker.resident, worker.party_member, worker.is_party_member) == (resident, county.members[0], True)


def test_liaison_limit_counts_the_file_and_the_database(county, settings, english):
    settings.LIAISON_MAX_HOUSEHOLDS = 2
    liaison = county.liaisons[0]  # already looks after county.households[0]
    micro = county.micro_grids[0]
    numbers = []
    for seq in range(2):
        household = Household.objects.create(number=f"{micro.code}9{seq}", address="x", grid=micro)
        numbers.append(household.number)
    rows = [[number, liaison.id_number] for number in numbers]
    report = roster_import(kind="liaisons", file=xlsx(headers("liaisons", ["household", "liaison"]), rows))
    assert [(e.row, e.message) for e in report.errors] == [(3, str(LIAISON_LIMIT_MESSAGE) % {"limit": 2})]
    assert LiaisonHousehold.objects.filter(liaison=liaison).count() == 1


def test_only_a_liaison_looks_after_households(county, english):
    worker = county.workers[0]  # a micro-grid worker
    rows = [[county.households[0].number, worker.id_number]]
    report = roster_import(kind="liaisons", file=xlsx(headers("liaisons", ["household", "liaison"]), rows))
    assert [e.message for e in report.errors] == ["Only a household liaison looks after households."]


def test_a_household_gets_the_liaison_of_the_file(county):
    second = GridWorker.objects.create(
        name="新联户长", id_number=make_id_number("513424", "19800303", 301), phone="13900000009",
        worker_type="liaison", unit=county.grids[0], start_date="2024-01-01",
    )
    household = county.households[0]
    rows = [[household.number, second.id_number]]
    report = roster_import(kind="liaisons", file=xlsx(headers("liaisons", ["household", "liaison"]), rows))
    assert report.changed == 1, str(report)
    assert LiaisonHousehold.objects.get(household=household).liaison == second


def test_one_dry_run_lists_every_error_of_the_workers_file(county, english):
    micro = county.micro_grids[0]
    other = county.workers[1]  # township B: another village
    rows = [
        # Bad phone, bad type, unknown unit and a backup: the backup's village rule reads the unit, so it is silent.
        ["甲", make_id_number("513424", "19900202", 30), "1234", "网格长", "51342499999999999", "2026-01-05", "A",
         other.id_number],
        # A micro-grid worker on a grid (the model's rule) and a start date that is no date.
        worker_row("乙", 31, county.grids[0]),
        # Good cells, but his backup works in another village; and a bad post beside it.
        worker_row("丙", 32, micro, post="C", backup=county.liaisons[1].id_number),
        worker_row("丁", 33, micro),
    ]
    rows[1][5] = "去年"
    before = GridWorker.objects.count()
    report = roster_import(kind="grid_workers", file=xlsx(headers("grid_workers", WORKER), rows), dry_run=True)
    assert [(e.row, e.column) for e in report.errors] == [
        (2, "Phone"), (2, "Type"), (2, "Grid code"),
        (3, "Grid code"), (3, "Start date"),
        (4, "Post"), (4, "Backup ID number"),
    ], report.errors
    messages = {(e.row, e.column): e.message for e in report.errors}
    assert "was not found" in messages[(2, "Grid code")]
    assert messages[(3, "Grid code")] == "A micro-grid worker must serve a micro-grid."
    assert messages[(4, "Backup ID number")] == "The backup must work in the same village or community."
    assert report.error_rows == 3 and GridWorker.objects.count() == before


def test_liaison_rows_report_the_liaison_and_the_household_at_once(county, english):
    worker = county.workers[0]  # a micro-grid worker, not a liaison
    household = county.households[0]
    household.is_active = False
    household.save()
    rows = [[household.number, worker.id_number]]
    report = roster_import(kind="liaisons", file=xlsx(headers("liaisons", ["household", "liaison"]), rows))
    assert [(e.column, e.message) for e in report.errors] == [
        ("Household number", "This household is no longer active."),
        ("Liaison ID number", "Only a household liaison looks after households."),
    ]

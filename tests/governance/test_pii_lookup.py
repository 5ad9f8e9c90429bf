"""Encrypted ID numbers and phones are still found whole: list search, API search, roster import matching."""

from governance.models import Resident
from governance.rosters import roster_import
from grid.models import GridWorker
from tests.helpers.api import get
from tests.helpers.excel import RESIDENT_COLUMNS, headers, xlsx
from tests.helpers.people import new_member

RESIDENTS_PAGE = "/org/residents/"
WORKERS_PAGE = "/grid/workers/"


def rows_of(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


def test_the_resident_list_finds_a_whole_id_number_or_phone_but_not_a_part(county, clerk_a, login):
    client = login(clerk_a)
    resident, neighbour = county.residents[0], county.residents[1]
    found = rows_of(client.get(RESIDENTS_PAGE, {"q": resident.id_number.lower()}))
    assert resident.name in found
    found = rows_of(client.get(RESIDENTS_PAGE, {"q": resident.phone}))
    assert resident.name in found and neighbour.name not in found
    partial = rows_of(client.get(RESIDENTS_PAGE, {"q": resident.id_number[:10]}))
    assert resident.name not in partial
    # The search box says so.
    assert "完整身份证/手机号" in rows_of(client.get(RESIDENTS_PAGE))


def test_the_worker_list_finds_a_worker_by_his_whole_id_number(county, village_a, login):
    worker = GridWorker.objects.filter(unit=county.grids[0]).first()
    page = rows_of(login(village_a).get(WORKERS_PAGE, {"q": worker.id_number}))
    assert worker.name in page


def test_the_api_search_finds_a_resident_by_id_number_and_a_worker_by_id_number(county, clerk_a, login):
    client = login(clerk_a)
    resident = county.residents[0]
    results = get(client, "/api/v1/residents/", search=resident.id_number)["results"]
    assert [row["name"] for row in results] == [resident.name]
    assert get(client, "/api/v1/residents/", search=resident.id_number[:12])["results"] == []
    worker = GridWorker.objects.filter(unit=county.grids[0]).first()
    results = get(client, "/api/v1/grid-workers/", search=worker.id_number)["results"]
    assert [row["name"] for row in results] == [worker.name]


def test_an_import_matches_an_existing_resident_by_id_number_and_updates_his_phone(county, admin_user):
    resident = county.residents[0]
    before = Resident.objects.count()
    row = [resident.name, resident.id_number.lower(), resident.household.number, "13711112222", resident.relation]
    report = roster_import(kind="residents", file=xlsx(headers("residents", RESIDENT_COLUMNS), [row]),
                           user=admin_user)
    assert report.written and (report.new, report.changed) == (0, 1), str(report)
    assert Resident.objects.count() == before
    # The new phone is stored encrypted and found by its hash; the old one finds him no more.
    assert list(Resident.objects.filter(phone="13711112222")) == [resident]
    assert resident not in Resident.objects.filter(phone=resident.phone)
    again = roster_import(kind="residents", file=xlsx(headers("residents", RESIDENT_COLUMNS), [row]), user=admin_user)
    assert (again.new, again.changed, again.unchanged) == (0, 0, 1)


def test_the_api_finds_a_party_member_through_his_residents_id_number(county, clerk_a, login):
    member = new_member(county)
    client = login(clerk_a)
    results = get(client, "/api/v1/party-members/", search=member.resident.id_number)["results"]
    assert [row["id"] for row in results] == [member.pk]
    # The person field takes a whole ID number too (a member registration's ``member`` filter).
    response = client.get("/api/v1/member-registrations/", {"member": member.resident.id_number})
    assert response.status_code == 200
    response = client.get("/api/v1/member-registrations/", {"member": member.resident.id_number[:10]})
    assert response.status_code == 400

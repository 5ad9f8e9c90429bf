"""A city district builds its party chain through the roster imports: 街道党工委 → 社区党委 → 网格党支部 →
楼栋党小组, then its 党员中心户 named by the head's ID number and the grid, without household numbers."""

from governance.rosters import get_spec, roster_import
from partybuild.models import CentralHousehold, PartyMember, PartyOrganization
from tests.helpers.district import chain_central_households, chain_members, chain_organizations
from tests.helpers.excel import exported, fill_template, headers, xlsx
from tests.helpers.people import make_id_number


def header(kind, name):
    return str(get_spec(kind).column(name).header)


def errors(report) -> list[tuple[int, str, str]]:
    return [(error.row, error.column, error.message) for error in report.errors]


def build_chain(district, user):
    for content, kind in ((chain_organizations(district), "party_organizations"),
                          (chain_members(district), "party_members")):
        report = roster_import(kind=kind, file=content, user=user)
        assert report.ok, str(report)


def test_the_city_districts_chain_imports_down_to_its_central_households(county, district, admin_user):
    report = roster_import(kind="party_organizations", file=chain_organizations(district), user=admin_user)
    assert report.ok and report.new == 5, str(report)
    group = PartyOrganization.objects.get(name="1号楼党小组")
    assert group.kind == "group"
    assert [(o.name, o.kind) for o in group.get_ancestors()] == [
        ("城东街道党工委", "street_committee"), ("城东社区党委", "community_committee"),
        ("城东社区第一网格党支部", "grid_branch")]
    assert roster_import(kind="party_members", file=chain_members(district), user=admin_user).new == 2

    report = roster_import(kind="central_households", file=chain_central_households(district), user=admin_user)
    assert report.ok and report.new == 2, str(report)
    central = CentralHousehold.objects.get(household=district.households[1])
    assert central.member == PartyMember.objects.get(resident=district.heads[1])
    assert str(central.since) == "2024-07-01"
    # The same file again finds both households already there: nothing new, nothing duplicated.
    again = roster_import(kind="central_households", file=chain_central_households(district), user=admin_user)
    assert (again.ok, again.new, again.unchanged) == (True, 0, 2), str(again)
    assert CentralHousehold.objects.filter(household__in=district.households).count() == 2


def test_the_export_reads_back_in_by_household_number(county, district, admin_user):
    build_chain(district, admin_user)
    roster_import(kind="central_households", file=chain_central_households(district), user=admin_user)
    rows = exported("central_households", CentralHousehold.objects.filter(household__in=district.households),
                    admin_user)
    assert [row[header("central_households", "household")] for row in rows] == [h.number for h in district.households]
    assert rows[0][header("central_households", "grid")] == district.buildings[0].code
    organizations = exported("party_organizations", PartyOrganization.objects.filter(org_unit__in=district.buildings),
                             admin_user)
    assert {row[header("party_organizations", "kind")] for row in organizations} == {"党小组"}
    by_number = fill_template("central_households", [
        {"household": h.number, "member": head.id_number, "since": "2024-07-01"}
        for h, head in zip(district.households, district.heads, strict=True)])
    assert roster_import(kind="central_households", file=by_number, user=admin_user).unchanged == 2


def test_a_grid_branch_under_a_general_branch_is_refused_with_the_rule(county, district, admin_user, english):
    rows = [
        ["城东社区党总支", "党总支", district.community.code, ""],
        ["城东社区第一网格党支部", "网格党支部", district.grid.code, "城东社区党总支"],
    ]
    report = roster_import(kind="party_organizations", user=admin_user,
                           file=xlsx(headers("party_organizations", ["name", "kind", "org_unit", "parent"]), rows))
    assert errors(report) == [(3, "Kind", "A 网格党支部 cannot be placed under a 党总支: "
                                         "a 网格党支部 sits under 社区党委、党支部.")]
    assert not PartyOrganization.objects.filter(name__startswith="城东").exists()


def test_a_kind_nobody_keeps_is_named_with_the_kinds_there_are(county, district, admin_user, english):
    rows = [["城东社区临时党组织", "临时党组织", district.community.code]]
    report = roster_import(kind="party_organizations", user=admin_user,
                           file=xlsx(headers("party_organizations", ["name", "kind", "org_unit"]), rows))
    [(row, column, message)] = errors(report)
    assert (row, column) == (2, "Kind")
    assert message.startswith("“临时党组织” is not a kind of party organisation. The kinds are: 党委、街道党工委、")


def test_a_kind_change_that_no_longer_fits_the_kept_parent_is_refused(county, admin_user, english):
    grid_branch = county.branches[0].get_children().get()
    rows = [[grid_branch.name, "党总支", grid_branch.org_unit.code]]
    report = roster_import(kind="party_organizations", user=admin_user,
                           file=xlsx(headers("party_organizations", ["name", "kind", "org_unit"]), rows))
    assert errors(report) == [(2, "Kind", "A 党总支 cannot be placed under a 党支部: "
                                         "a 党总支 sits under 党委、街道党工委、社区党委.")]


# --- Central households: which household a row names ------------------------------------------


def central_file(rows, names=("head", "grid", "member")):
    return xlsx(headers("central_households", list(names)), rows)


def test_a_head_nobody_knows_is_not_found_on_his_column(county, district, admin_user, english):
    build_chain(district, admin_user)
    unknown = make_id_number("513424", "19700101", 799)
    report = roster_import(kind="central_households", user=admin_user,
                           file=central_file([[unknown, district.grid.name, district.heads[0].id_number]]))
    assert errors(report) == [(2, "Head of household ID number", f'Head of household "{unknown}" was not found.')]


def test_a_member_who_is_not_the_head_names_no_household(county, district, admin_user, english):
    build_chain(district, admin_user)
    from governance.services import resident_create

    son = resident_create(household=district.households[0], name="王小明", relation="child",
                          id_number=make_id_number("513424", "20000101", 701))
    report = roster_import(kind="central_households", user=admin_user,
                           file=central_file([[son.id_number, district.grid.name, district.heads[0].id_number]]))
    assert errors(report) == [(2, "Head of household ID number",
                               "王小明 is not recorded as the head of a household (Child): give the household number.")]


def test_the_grid_must_be_the_households(county, district, admin_user, english):
    build_chain(district, admin_user)
    head = district.heads[0]
    report = roster_import(kind="central_households", user=admin_user,
                           file=central_file([[head.id_number, county.grids[0].name, head.id_number],
                                              [head.id_number, "城西社区第九网格", head.id_number]]))
    household = district.households[0]
    assert errors(report) == [
        (2, "Grid", f"Household {household.number} is in 城东社区1号楼, not in “{county.grids[0].name}”."),
        (3, "Grid", "There is no grid or micro-grid “城西社区第九网格” in your area."),
    ]


def test_the_grid_may_be_named_by_its_code_or_the_buildings(county, district, admin_user):
    build_chain(district, admin_user)
    heads = district.heads
    report = roster_import(kind="central_households", user=admin_user,
                           file=central_file([[heads[0].id_number, district.grid.code, heads[0].id_number],
                                              [heads[1].id_number, district.buildings[1].name, heads[1].id_number]]))
    assert report.ok and report.new == 2, str(report)


def test_a_row_without_number_or_head_says_what_to_give(county, district, admin_user, english):
    build_chain(district, admin_user)
    report = roster_import(kind="central_households", user=admin_user,
                           file=central_file([["", district.grid.name, district.heads[0].id_number]]))
    assert errors(report) == [
        (2, "Household number", "Give the household number, or the ID number of the head of the household.")]


def test_number_and_head_must_name_the_same_household(county, district, admin_user, english):
    build_chain(district, admin_user)
    heads, households = district.heads, district.households
    report = roster_import(kind="central_households", user=admin_user, file=central_file(
        [[households[0].number, heads[1].id_number, heads[0].id_number]], names=("household", "head", "member")))
    expected = f"李秀英 is the head of household {households[1].number}, not of {households[0].number}."
    assert errors(report) == [(2, "Head of household ID number", expected)]


def test_two_rows_naming_one_household_are_refused(county, district, admin_user, english):
    build_chain(district, admin_user)
    head, household = district.heads[0], district.households[0]
    report = roster_import(kind="central_households", user=admin_user, file=central_file(
        [[household.number, "", head.id_number], ["", head.id_number, head.id_number]],
        names=("household", "head", "member")))
    assert errors(report) == [(3, "Head of household ID number",
                               f"Names the same household as row 2 ({household.number}).")]
    assert not CentralHousehold.objects.filter(household=household).exists()


def test_a_clerk_cannot_name_a_household_outside_his_area(county, district, admin_user, clerk_b, english):
    build_chain(district, admin_user)
    head = district.heads[0]
    report = roster_import(kind="central_households", user=clerk_b,
                           file=central_file([[head.id_number, district.grid.name, head.id_number]]))
    assert (2, "Head of household ID number", f'Head of household "{head.id_number}" was not found.') in errors(report)
    assert not CentralHousehold.objects.filter(household=district.households[0]).exists()


def test_the_template_explains_both_ways_to_name_a_household(county):
    from tests.helpers.excel import template_rows

    header_row = template_rows("central_households")[0]
    assert header("central_households", "head") in header_row and header("central_households", "grid") in header_row


# --- Every error of a row at once ---------------------------------------------------------------


def test_a_dry_run_lists_every_error_of_an_organisation_row_at_once(county, district, admin_user, english):
    rows = [
        ["城东社区党总支", "党总支", district.community.code, ""],
        ["城东社区第一网格党支部", "网格党支部", "513424999999001", "城东社区党总支"],
        ["城东临时党组织", "临时党组织", "", "城东社区党总支"],
    ]
    report = roster_import(kind="party_organizations", user=admin_user, dry_run=True,
                           file=xlsx(headers("party_organizations", ["name", "kind", "org_unit", "parent"]), rows))
    found = errors(report)
    assert (3, "Unit code", 'Org unit "513424999999001" was not found.') in found
    misfit = "A 网格党支部 cannot be placed under a 党总支: a 网格党支部 sits under 社区党委、党支部."
    assert (3, "Kind", misfit) in found
    assert (4, "Unit code", "This value is required.") in found
    assert [(row, column) for row, column, _message in found if row == 4] == [(4, "Kind"), (4, "Unit code")]


def test_a_dry_run_lists_every_error_of_a_household_row_at_once(county, district, admin_user, english):
    build_chain(district, admin_user)
    head = district.heads[0]
    stranger = make_id_number("513424", "19700101", 798)
    report = roster_import(kind="central_households", user=admin_user, dry_run=True,
                           file=central_file([[head.id_number, county.grids[0].name, stranger]]))
    household = district.households[0]
    assert errors(report) == [
        (2, "Grid", f"Household {household.number} is in 城东社区1号楼, not in “{county.grids[0].name}”."),
        (2, "Party member ID number", f'Party member "{stranger}" was not found.'),
    ]

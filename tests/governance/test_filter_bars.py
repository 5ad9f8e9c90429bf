"""The filter bars offer the pickers and filters their records carry, and no more: one base form
(``governance.portal.forms.ScopedFilterForm``) told by each list whether its rows carry tags and
how deep its unit pickers go."""

from django.urls import reverse

UNIT_PICKERS = ("township", "village", "grid")


def _offered(response) -> list[str]:
    fields = response.context["filter_form"].fields
    return [name for name in (*UNIT_PICKERS, "tag") if name in fields]


def test_the_household_list_offers_every_unit_picker_and_the_tags(login, county, county_official):
    response = login(county_official).get(reverse("org:household-list"))
    assert _offered(response) == ["township", "village", "grid", "tag"]


def test_a_list_of_village_records_offers_no_grid_picker_and_no_tags(login, county, county_official):
    client = login(county_official)
    url = reverse("partybuild:wish-list")
    assert _offered(client.get(url)) == ["township", "village"]
    # A grid's dashboard links here with its whole chain (township, village, grid): the list shows
    # the village's wishes, which is where wishes are kept, and the grid is not a filter of its own.
    chain = {"township": county.township_a.code, "village": county.villages[0].code, "grid": county.grids[0].code}
    response = client.get(url, chain)
    assert response.status_code == 200
    assert list(response.context["object_list"]) == [county.wishes[0]]


def test_grid_workers_are_picked_down_to_the_grid_but_carry_no_tags(login, county, county_official):
    response = login(county_official).get(reverse("grid:worker-list"))
    assert _offered(response) == ["township", "village", "grid"]

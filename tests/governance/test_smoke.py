from governance.models import OrgUnit


def test_cast_builds_two_counties(county, other_county):
    assert OrgUnit.objects.filter(level="county").count() == 2
    assert OrgUnit.objects.visible_to  # the scope method exists

"""Fixtures of the party-building tests: a city district's chain over township A, in English when asked."""

import pytest
from django.utils import translation

from governance.rosters import roster_import
from partybuild.kinds import seed_kinds
from partybuild.models import PartyOrganizationKind
from tests.helpers.district import (
    build_district,
    chain_central_households,
    chain_members,
    chain_organizations,
)


@pytest.fixture
def kinds(db):
    """The default kinds (a migration seeds them, but a transactional test empties every table)."""
    seed_kinds(PartyOrganizationKind)


@pytest.fixture
def district(county):
    """A city district's units and people over township A (tests/helpers/district.py), no party rows yet."""
    return build_district(county)


@pytest.fixture
def chain(district, admin_user):
    """The district with its party chain imported: organisations, members, party-member households."""
    for kind, content in (("party_organizations", chain_organizations(district)),
                          ("party_members", chain_members(district)),
                          ("central_households", chain_central_households(district))):
        report = roster_import(kind=kind, file=content, user=admin_user)
        assert report.ok, str(report)
    return district


@pytest.fixture
def english():
    with translation.override("en"):
        yield

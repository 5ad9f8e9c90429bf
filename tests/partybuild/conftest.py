"""Fixtures of the party-building tests."""

import pytest

from tests.partybuild.district import build_district


@pytest.fixture
def district(county):
    """A city district's chain of units and people over township A (tests/partybuild/district.py)."""
    return build_district(county)

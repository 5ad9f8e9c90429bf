"""Fixtures of the case tests, on top of the standing cast (tests/conftest.py)."""

import pytest

from grid.models import CaseCategory
from grid.services import cases as svc


@pytest.fixture
def hazard(db):
    """The category of a house in danger of falling (房屋安全)."""
    return CaseCategory.objects.get(code="hazard-building")


@pytest.fixture
def new_case(county, clerk_a, hazard):
    """Report a house in danger (危房) in township A's micro-grid, by its clerk unless ``user`` is given;
    ``fields`` change any of the report's fields."""

    def make(title="危房", *, user=None, **fields):
        values = {"title": title, "description": "墙体开裂", "category": hazard, "grid": county.micro_grids[0]}
        values.update(fields)
        return svc.case_create(user=user or clerk_a, **values)

    return make

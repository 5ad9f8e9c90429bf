"""The cast of the ledger tests: a book of township A's village, its bookkeeper and the township's officer."""

import pytest

from tests.helpers.ledger import new_book


@pytest.fixture
def book(county, village_a):
    """The book of township A's village, year 2025 under the 2023 rules, kept by village_a."""
    return new_book(county.villages[0], bookkeepers=[village_a])


@pytest.fixture
def book_b(county):
    """The book of township B's village."""
    return new_book(county.villages[1])

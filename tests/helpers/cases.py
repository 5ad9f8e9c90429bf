"""Cases beyond the cast's: rows written straight for counting, and an old system's cases to import."""

import datetime
from itertools import count

from django.utils import timezone

from governance.models import Level
from grid.models import Case, CaseCategory, Triage
from tests.helpers.excel import headers, xlsx

# The smallest valid PNG (1×1 pixel): an attachment the content check accepts.
PNG_1PX = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4"
    b"\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND"
    b"\xaeB`\x82"
)

_numbers = count(1)


def add_case(grid, *, reported_at, colour="green", **fields) -> Case:
    """A case written as it stands (no service, no event): for the counts of the indicators."""
    township = grid.get_ancestors().get(level=Level.TOWNSHIP)
    return Case.objects.create(
        number=f"T{next(_numbers):010d}", title="测试事件", category=CaseCategory.objects.get(code="dispute-neighbour"),
        grid=grid, handling_unit=township, reported_at=reported_at, colour=colour, **fields,
    )


# --- Historical cases to import (roster "cases") ---------------------------------------------

CASE_COLUMNS = [
    "number", "title", "description", "category", "grid", "colour", "triage", "source", "reporter_name",
    "reporter_phone", "address", "reported_at", "accepted_at", "dispatched_at", "resolved_at", "verified_at",
    "closed_at", "state", "result", "rating",
]


def excel_cell(value):
    """``value`` as a cell holds it: Excel cells have no time zone."""
    if isinstance(value, datetime.datetime) and value.tzinfo is not None:
        return timezone.localtime(value).replace(tzinfo=None)
    return value


def cases_xlsx(rows: list[dict], names=CASE_COLUMNS) -> bytes:
    """A cases file with the columns ``names``; each row a dict (column name → value)."""
    return xlsx(headers("cases", names), [[excel_cell(row.get(name)) for name in names] for row in rows])


def closed_row(grid, i: int, number: str | None = None) -> dict:
    """A case of May 2024 that went the whole loop (times as text, as old systems export them)."""
    day = 1 + i % 28
    return {
        "number": number,
        "title": f"历史事件{i}",
        "description": "院墙界线纠纷" if i % 2 else None,
        "category": "dispute-neighbour" if i % 3 else "邻里纠纷",
        "grid": grid.code,
        "colour": ["green", "Yellow", "red"][i % 3],  # values or labels
        "triage": Triage.MINOR.value,
        "source": "hotline",
        "reporter_name": "张三",
        "reporter_phone": "13900000000",
        "address": "1组1号",
        "reported_at": f"2024-05-{day:02d} 09:{i % 60:02d}",
        "accepted_at": f"2024-05-{day:02d} 10:00",
        "dispatched_at": datetime.datetime(2024, 5, day, 11, 0),  # an Excel date cell
        "resolved_at": f"2024/5/{day} 15:30",
        "verified_at": f"2024-05-{day:02d} 17:00",
        "closed_at": f"2024-05-{day:02d} 18:00",
        "state": "closed",
        "result": "已调解",
        "rating": "satisfied",
    }


def good_rows(county, count=20) -> list[dict]:
    """``count`` closed cases of May 2024 in the cast's two micro-grids, two with an old number."""
    rows = [closed_row(county.micro_grids[i % 2], i) for i in range(count)]
    # Numbers kept from the old system: one of our own form (township A, May 2024, sequence 7), one not.
    rows[0]["number"] = f"{county.township_a.code[:9]}20240500007"
    rows[1]["number"] = "OLD-2024-000123"
    return rows

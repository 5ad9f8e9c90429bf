"""After a bulk import or a seed the planner knows the tables' sizes (PostgreSQL): the rollup run right after an
import is as fast as a later one (a county's first rollup once took 34-63 s instead of 0.4 s)."""

import datetime
import time

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from governance.indicators.engine import rollup_month
from governance.models import RollupStatus
from governance.rosters import roster_import
from grid.models import Case, CaseEvent
from tests.helpers.cases import cases_xlsx, closed_row
from tests.helpers.excel import RESIDENT_COLUMNS, headers, resident_rows, xlsx
from tests.helpers.markers import requires_postgres

pytestmark = requires_postgres

CASES = 3000


def statistics(model) -> tuple[float, datetime.datetime | None]:
    """(the planner's row estimate, when ANALYZE last ran) of ``model``'s table."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")  # read the statistics as they are now
        cursor.execute("SELECT c.reltuples, s.last_analyze FROM pg_class c JOIN pg_stat_user_tables s "
                       "ON s.relid = c.oid WHERE c.relname = %s", [table])
        return cursor.fetchone()


def timed_rollup(period) -> float:
    started = time.monotonic()
    run = rollup_month(period)
    assert run.status == RollupStatus.COMPLETE, run.errors
    return time.monotonic() - started


@pytest.mark.django_db(transaction=True)
def test_the_rollup_right_after_an_import_is_as_fast_as_a_later_one(county):
    rows = [closed_row(county.micro_grids[i % 2], i) for i in range(CASES)]
    began = timezone.now()
    report = roster_import(kind="cases", file=cases_xlsx(rows))
    assert report.written and report.new == CASES, str(report)
    # The statistics exist as soon as the import is done: the planner counts the rows written.
    for model in (Case, CaseEvent):
        estimate, analyzed = statistics(model)
        assert analyzed is not None and analyzed >= began, model
        assert estimate == pytest.approx(model.objects.count(), rel=0.05), model
    period = datetime.date(2024, 5, 1)
    right_after = timed_rollup(period)
    with connection.cursor() as cursor:  # what autovacuum would do some minutes later
        cursor.execute("ANALYZE")
    later = timed_rollup(period)
    assert right_after < 3 * later + 1.0, (right_after, later)


@pytest.mark.django_db(transaction=True)
def test_a_roster_written_while_it_is_checked_is_analyzed_too(county):
    from governance.models import Resident

    began = timezone.now()
    content = xlsx(headers("residents", RESIDENT_COLUMNS), resident_rows(county, 500))
    report = roster_import(kind="residents", file=content)  # written by the stream writer's thread
    assert report.written and report.new == 500, str(report)
    estimate, analyzed = statistics(Resident)
    assert analyzed is not None and analyzed >= began
    assert estimate == pytest.approx(Resident.objects.count(), rel=0.05)


@pytest.mark.django_db(transaction=True)
def test_seed_demo_leaves_statistics_behind():
    from governance.models import Household, Resident

    began = timezone.now()
    call_command("seed_demo", "--scale", "small", "--today", "2025-07-01", "--no-rollup")
    for model in (Household, Resident):
        estimate, analyzed = statistics(model)
        assert analyzed is not None and analyzed >= began, model
        assert estimate == pytest.approx(model.objects.count(), rel=0.05), model

"""Demo grid workers, A/B posts and household liaisons (``workers``), and cases (``case_plan``
plans them, ``cases`` writes them).

Plugged into ``seed_demo`` through governance's demo hooks (``register`` below), after
partybuild's demo (INSTALLED_APPS order): party members are linked where a worker is one.
"""

from django.db import connection

from governance.demo.hooks import DemoContext, register
from grid.demo.cases import seed_cases
from grid.demo.workers import seed_workers
from grid.models import Case, CaseAttachment, CaseCounter, CaseEvent, GridWorker, LiaisonHousehold, Mediation


def seed(ctx: DemoContext) -> None:
    seed_workers(ctx)
    seed_cases(ctx)


def reset() -> None:
    with connection.cursor() as cursor:
        for model in (Mediation, CaseAttachment, CaseEvent, Case, CaseCounter, LiaisonHousehold, GridWorker):
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")


register(seed=seed, reset=reset, models=(GridWorker, LiaisonHousehold, Case, CaseEvent, Mediation, CaseCounter))

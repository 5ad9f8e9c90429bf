"""Demo data: a deterministic, realistic county (or city) for trying the portal and benchmarks.

``plan`` decides the tree and how many households each unit holds (no database);
``people`` makes the households and residents of one unit; ``writer`` puts it all in the
database in bulk; ``hooks`` lets the apps above governance add their demo rows (rosters)
in the same transaction, each from its own ``demo.py``. ``manage.py seed_demo`` is the
entry point.
"""

from governance.demo.plan import DEMO_USERNAMES, SCALES, Plan, make_plan
from governance.demo.writer import (
    DEFAULT_PASSWORD,
    ResetRefused,
    SeedResult,
    seed_demo,
    wipe_org_data,
)

__all__ = [
    "DEFAULT_PASSWORD",
    "DEMO_USERNAMES",
    "SCALES",
    "Plan",
    "ResetRefused",
    "SeedResult",
    "make_plan",
    "seed_demo",
    "wipe_org_data",
]

"""The audit triggers' cost on PostgreSQL: 100,000 residents inserted, then their names changed (an event per
row), one statement each, with governance_resident's audit triggers disabled, then enabled (same transaction,
rolled back).
Against a migrated database:

    scripts/with-servers.sh bash -c '.venv/bin/python manage.py migrate -v0 && DJANGO_SETTINGS_MODULE=tests.settings \\
        .venv/bin/python manage.py shell -c "exec(open(\\"bench/audit_triggers.py\\").read())"'
"""

import time

from django.db import connection, transaction

from governance.models import Household
from tests.helpers.cast import build_county

N = 100_000
COLUMNS = "household_id, name, id_number, birth_date, sex, phone, relation, is_active, created_at"


def writes(household, tag: str) -> tuple[float, float]:
    with connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute(
            f"INSERT INTO governance_resident ({COLUMNS}) SELECT %s, 'n' || g, %s || lpad(g::text, 12, '0'), "
            "date '1990-01-01', 'M', '139' || lpad(g::text, 8, '0'), 'head', true, now() "
            "FROM generate_series(1, %s) g", [household.pk, tag, N])
        inserted = time.perf_counter() - started
        started = time.perf_counter()
        cursor.execute("UPDATE governance_resident SET name = name || '改' WHERE id_number LIKE %s",
                       [tag + "%"])
        return inserted, time.perf_counter() - started


chain = build_county("513424", "德昌县", "德")
household = Household.objects.create(number="HB", address="x", grid=chain.grids[0])
for round_ in range(2):
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE governance_resident DISABLE TRIGGER USER")
        off = writes(household, f"A{round_}")
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE governance_resident ENABLE TRIGGER USER")
        on = writes(household, f"B{round_}")
        transaction.set_rollback(True)
    print(f"insert {N:,}: off {off[0]:.2f}s on {on[0]:.2f}s (+{on[0] - off[0]:.2f}); "
          f"update {N:,}: off {off[1]:.2f}s on {on[1]:.2f}s (+{on[1] - off[1]:.2f})")
print("load", open("/proc/loadavg").read().split()[:3])

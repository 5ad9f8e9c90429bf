"""The audit triggers' cost on PostgreSQL: 100,000 residents inserted, then their phones updated, in one
statement each, with governance_resident's audit triggers disabled, then enabled (same transaction, rolled
back). Run against a migrated database:

    scripts/with-servers.sh bash -c '.venv/bin/python manage.py migrate -v0 &&
        DJANGO_SETTINGS_MODULE=tests.settings .venv/bin/python manage.py shell -c "exec(open(\'bench/audit_triggers.py\').read())"'
"""

import time
from django.db import connection, transaction
from django.core.management import call_command
from governance.models import OrgUnit, Household, Resident
from tests.helpers.cast import build_county

chain = build_county("513424", "德昌县", "德")
grid = chain.grids[0]
hh = Household.objects.create(number="HB", address="x", grid=grid)
N = 100_000
cols = "household_id, name, id_number, birth_date, sex, phone, relation, is_active, created_at"
def insert(tag):
    with connection.cursor() as c:
        t = time.perf_counter()
        c.execute(f"INSERT INTO governance_resident ({cols}) SELECT %s, 'n' || g, %s || lpad(g::text, 12, '0'), "
                  "date '1990-01-01', 'M', '139' || lpad(g::text, 8, '0'), 'head', true, now() FROM generate_series(1, %s) g",
                  [hh.pk, tag, N])
        ins = time.perf_counter() - t
        t = time.perf_counter()
        c.execute("UPDATE governance_resident SET phone = '138' || substr(phone, 4) WHERE id_number LIKE %s", [tag + "%"])
        upd = time.perf_counter() - t
        t = time.perf_counter()
        c.execute("UPDATE governance_orgunit SET lft = lft")  # a renumbering that changes nothing audited
        ren = time.perf_counter() - t
    return ins, upd, ren
rounds = []
for r in range(2):
    with transaction.atomic():
        with connection.cursor() as c:
            c.execute("SET CONSTRAINTS ALL IMMEDIATE")
            c.execute("ALTER TABLE governance_resident DISABLE TRIGGER USER")
        off = insert(f"A{r}")
        with connection.cursor() as c:
            c.execute("ALTER TABLE governance_resident ENABLE TRIGGER USER")
        on = insert(f"B{r}")
        transaction.set_rollback(True)
    rounds.append((off, on))
for off, on in rounds:
    print(f"insert 100k: off {off[0]:.2f}s on {on[0]:.2f}s (+{on[0]-off[0]:.2f}); update 100k phones: off {off[1]:.2f}s on {on[1]:.2f}s (+{on[1]-off[1]:.2f})")
print("load", open("/proc/loadavg").read().split()[:3])

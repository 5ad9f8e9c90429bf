"""The database's own refusals for the books, on PostgreSQL and on SQLite alike.

The services refuse these first with a message a bookkeeper understands; these triggers are
the last line, for whatever reaches the tables another way (a shell, a script, a bug):

- a posted voucher whose lines' debits and credits differ from its totals (and the totals
  balance by a CHECK constraint), or that has no line;
- any update or delete of a posted voucher, and any insert, update or delete of its lines;
- a voucher posted into a month that is closed (or that the book year does not have).

SQLite compares money in whole fen (``ROUND(x * 100)``): it keeps decimals as floating point.
Each failure is an IntegrityError whose text starts with ``ledger:``.
"""

VOUCHER = "collective_economy_voucher"
LINE = "collective_economy_voucherline"
PERIOD = "collective_economy_period"

MESSAGES = {
    "posted_changed": "ledger: a posted voucher never changes",
    "posted_deleted": "ledger: a posted voucher is never deleted",
    "line_posted": "ledger: the lines of a posted voucher never change",
    "closed_period": "ledger: no voucher is posted into a closed period",
    "unbalanced": "ledger: the lines of a posted voucher must balance (debits = credits = its totals)",
}

POSTGRESQL = [
    f"""
CREATE OR REPLACE FUNCTION ce_voucher_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.status = 'posted' THEN
            RAISE EXCEPTION '{MESSAGES["posted_deleted"]}' USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN OLD;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.status = 'posted' THEN
        RAISE EXCEPTION '{MESSAGES["posted_changed"]}' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF NEW.status = 'posted' THEN
        IF NOT EXISTS (SELECT 1 FROM {PERIOD} p WHERE p.book_year_id = NEW.book_year_id AND p.month = NEW.month
                       AND NOT p.closed) THEN
            RAISE EXCEPTION '{MESSAGES["closed_period"]}' USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        IF (SELECT COALESCE(SUM(l.debit), 0) <> NEW.debit_total OR COALESCE(SUM(l.credit), 0) <> NEW.credit_total
                   OR COUNT(*) = 0
            FROM {LINE} l WHERE l.voucher_id = NEW.id) THEN
            RAISE EXCEPTION '{MESSAGES["unbalanced"]}' USING ERRCODE = 'integrity_constraint_violation';
        END IF;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql""",
    f"""CREATE TRIGGER ce_voucher_guard BEFORE INSERT OR UPDATE OR DELETE ON {VOUCHER}
        FOR EACH ROW EXECUTE FUNCTION ce_voucher_guard()""",
    f"""
CREATE OR REPLACE FUNCTION ce_line_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND EXISTS (SELECT 1 FROM {VOUCHER} v WHERE v.id = OLD.voucher_id
                                                 AND v.status = 'posted') THEN
        RAISE EXCEPTION '{MESSAGES["line_posted"]}' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND EXISTS (SELECT 1 FROM {VOUCHER} v WHERE v.id = NEW.voucher_id
                                                 AND v.status = 'posted') THEN
        RAISE EXCEPTION '{MESSAGES["line_posted"]}' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql""",
    f"""CREATE TRIGGER ce_line_guard BEFORE INSERT OR UPDATE OR DELETE ON {LINE}
        FOR EACH ROW EXECUTE FUNCTION ce_line_guard()""",
]

POSTGRESQL_DROP = [
    f"DROP TRIGGER IF EXISTS ce_voucher_guard ON {VOUCHER}",
    f"DROP TRIGGER IF EXISTS ce_line_guard ON {LINE}",
    "DROP FUNCTION IF EXISTS ce_voucher_guard()",
    "DROP FUNCTION IF EXISTS ce_line_guard()",
]


def _sqlite_posting_checks() -> str:
    return f"""
        SELECT RAISE(ABORT, '{MESSAGES["closed_period"]}')
        WHERE NOT EXISTS (SELECT 1 FROM {PERIOD} p WHERE p.book_year_id = NEW.book_year_id
                          AND p.month = NEW.month AND NOT p.closed);
        SELECT RAISE(ABORT, '{MESSAGES["unbalanced"]}')
        FROM (SELECT ROUND(COALESCE(SUM(l.debit), 0) * 100) AS d, ROUND(COALESCE(SUM(l.credit), 0) * 100) AS c,
                     COUNT(*) AS n
              FROM {LINE} l WHERE l.voucher_id = NEW.id) AS sums
        WHERE sums.n = 0 OR sums.d <> ROUND(NEW.debit_total * 100) OR sums.c <> ROUND(NEW.credit_total * 100);"""


SQLITE = [
    f"""CREATE TRIGGER ce_voucher_no_delete BEFORE DELETE ON {VOUCHER} WHEN OLD.status = 'posted'
        BEGIN SELECT RAISE(ABORT, '{MESSAGES["posted_deleted"]}'); END""",
    f"""CREATE TRIGGER ce_voucher_no_update BEFORE UPDATE ON {VOUCHER} WHEN OLD.status = 'posted'
        BEGIN SELECT RAISE(ABORT, '{MESSAGES["posted_changed"]}'); END""",
    f"""CREATE TRIGGER ce_voucher_post_update BEFORE UPDATE ON {VOUCHER} WHEN NEW.status = 'posted'
        BEGIN {_sqlite_posting_checks()} END""",
    f"""CREATE TRIGGER ce_voucher_post_insert BEFORE INSERT ON {VOUCHER} WHEN NEW.status = 'posted'
        BEGIN {_sqlite_posting_checks()} END""",
    f"""CREATE TRIGGER ce_line_no_insert BEFORE INSERT ON {LINE}
        WHEN (SELECT status FROM {VOUCHER} WHERE id = NEW.voucher_id) = 'posted'
        BEGIN SELECT RAISE(ABORT, '{MESSAGES["line_posted"]}'); END""",
    f"""CREATE TRIGGER ce_line_no_update BEFORE UPDATE ON {LINE}
        WHEN (SELECT status FROM {VOUCHER} WHERE id = OLD.voucher_id) = 'posted'
          OR (SELECT status FROM {VOUCHER} WHERE id = NEW.voucher_id) = 'posted'
        BEGIN SELECT RAISE(ABORT, '{MESSAGES["line_posted"]}'); END""",
    f"""CREATE TRIGGER ce_line_no_delete BEFORE DELETE ON {LINE}
        WHEN (SELECT status FROM {VOUCHER} WHERE id = OLD.voucher_id) = 'posted'
        BEGIN SELECT RAISE(ABORT, '{MESSAGES["line_posted"]}'); END""",
]

SQLITE_DROP = [
    f"DROP TRIGGER IF EXISTS {name}"
    for name in ("ce_voucher_no_delete", "ce_voucher_no_update", "ce_voucher_post_update", "ce_voucher_post_insert",
                 "ce_line_no_insert", "ce_line_no_update", "ce_line_no_delete")
]


def _statements(vendor: str, *, drop: bool) -> list[str]:
    if vendor == "postgresql":
        return POSTGRESQL_DROP if drop else POSTGRESQL
    if vendor == "sqlite":
        return SQLITE_DROP if drop else SQLITE
    raise NotImplementedError(f"the ledger's triggers are written for PostgreSQL and SQLite, not {vendor}")


def install(connection) -> None:
    with connection.cursor() as cursor:
        for statement in _statements(connection.vendor, drop=False):
            cursor.execute(statement)


def uninstall(connection) -> None:
    with connection.cursor() as cursor:
        for statement in _statements(connection.vendor, drop=True):
            cursor.execute(statement)


def migration_install(apps, schema_editor) -> None:
    install(schema_editor.connection)


def migration_uninstall(apps, schema_editor) -> None:
    uninstall(schema_editor.connection)


# --- The decision gate (migration 0006) ------------------------------------------------------
#
# A payment voucher — its credits on the cash and bank accounts — above the county's threshold
# (``DecisionRules``; 50,000 yuan where the county has none) posts only when it cites a decision
# of its own village that reached the resolution (决议). Reversals and the year-end
# carry-forward are not payments. The county is the one whose subtree holds the book's village.

DEFAULT_THRESHOLD = "50000.00"  # models.decisions.DEFAULT_PAYMENT_THRESHOLD
GATE_MESSAGE = "ledger: a payment above the threshold needs a village decision that reached the resolution"


def _gate_condition(new: str) -> str:
    """SQL true when the voucher ``new`` (NEW) breaks the gate (the same text for both databases)."""
    return f"""{new}.kind = 'normal'
        AND (SELECT ROUND(COALESCE(SUM(l.credit), 0) * 100) FROM {LINE} l
             JOIN collective_economy_chartaccount a ON a.id = l.account_id
             WHERE l.voucher_id = {new}.id AND a.role IN ('cash', 'bank'))
          > ROUND(COALESCE((SELECT r.payment_threshold FROM collective_economy_decisionrules r
                            JOIN governance_orgunit c ON c.id = r.county_id
                            JOIN governance_orgunit v ON v.tree_id = c.tree_id AND v.lft BETWEEN c.lft AND c.rght
                            JOIN collective_economy_book b ON b.village_id = v.id
                            WHERE b.id = {new}.book_id), {DEFAULT_THRESHOLD}) * 100)
        AND NOT EXISTS (SELECT 1 FROM collective_economy_decision d JOIN collective_economy_book b
                        ON b.id = {new}.book_id AND b.village_id = d.village_id
                        WHERE d.id = {new}.decision_id AND d.state IN ('resolution', 'publication', 'result'))"""


GATE_POSTGRESQL = [
    f"""
CREATE OR REPLACE FUNCTION ce_voucher_decision_gate() RETURNS trigger AS $$
BEGIN
    IF {_gate_condition("NEW")} THEN
        RAISE EXCEPTION '{GATE_MESSAGE}' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql""",
    f"""CREATE TRIGGER ce_voucher_decision_gate BEFORE UPDATE ON {VOUCHER}
        FOR EACH ROW WHEN (NEW.status = 'posted' AND OLD.status <> 'posted')
        EXECUTE FUNCTION ce_voucher_decision_gate()""",
]
GATE_POSTGRESQL_DROP = [
    f"DROP TRIGGER IF EXISTS ce_voucher_decision_gate ON {VOUCHER}",
    "DROP FUNCTION IF EXISTS ce_voucher_decision_gate()",
]
GATE_SQLITE = [
    f"""CREATE TRIGGER ce_voucher_decision_gate BEFORE UPDATE ON {VOUCHER}
        WHEN NEW.status = 'posted' AND OLD.status <> 'posted'
        BEGIN SELECT RAISE(ABORT, '{GATE_MESSAGE}') WHERE {_gate_condition("NEW")}; END""",
]
GATE_SQLITE_DROP = ["DROP TRIGGER IF EXISTS ce_voucher_decision_gate"]


def migration_install_gate(apps, schema_editor) -> None:
    statements = {"postgresql": GATE_POSTGRESQL, "sqlite": GATE_SQLITE}[schema_editor.connection.vendor]
    with schema_editor.connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def migration_uninstall_gate(apps, schema_editor) -> None:
    statements = {"postgresql": GATE_POSTGRESQL_DROP, "sqlite": GATE_SQLITE_DROP}[schema_editor.connection.vendor]
    with schema_editor.connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)

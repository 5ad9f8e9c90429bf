"""Demo books: every demo village gets its economic organisation and a book with last year closed and this
year up to the demo's last day, so the dashboards open with operating income this year so far and last year.

- an economic organisation (股份经济合作社) per village, with a valid GB 32100 credit code; about half
  led by the village party organisation;
- a book kept under the chart in force (the 2023 rules from 2024 on, the 2004 rules before), kept by
  the village's demo user where there is one (else the demo administrator keeps it alone);
- detail accounts (明细科目): one under the fixed assets (固定资产) for each asset of the register, whose
  values add up to the account's balance, and one under operating income for the village's project, which
  its operating income is posted on (the project library reads the project's income from it);
- last year: opening balances, twelve months of vouchers, the year-end carry-forward (kind closing)
  to 本年收益 and on to 收益分配, every month and the year closed; this year: the closing balances as
  opening balances, vouchers up to the demo's last day (contracting and operating income, investment
  income, subsidies, wages, management and operating expenses, the project's construction paid), the
  months before the current one closed, and in the current month a draft and a voucher awaiting review;
- the villages' operating income this year so far spread over the four bands (some weak, some
  1,000,000 yuan or more);
- a payment above the county's threshold (50,000 yuan) cites a village decision that reached 决议, as the
  services and the database demand: the project's construction cites the project's decision, a large
  operating expense the year's spending plan (``decisions``).

Vouchers cannot be inserted as posted (the ledger's triggers): they are written as reviewed with their
totals, the lines follow, then one UPDATE posts them and gives their numbers (the triggers check the
balance, the open month and the decision there), and the months are closed after.

A line names its account by a name of ``CODES`` (``bank``, ``operating``), or ``<name>@<key>`` for a
detail account of it (``fixed@ZC-001``, ``operating@project``): the same names in both years, whichever
chart each is kept under, so last year's balances carry over by name.
"""

import calendar
import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection

from collective_economy.models import Book, BookYear, Decision, DecisionRules, Period, Voucher, VoucherLine
from governance.demo.hooks import DemoContext
from governance.models import OrgUnit

BookKeepers = Book.bookkeepers.through

CENT = Decimal("0.01")
# The accounts the demo uses, by what they are, in each chart's codes.
CODES = {
    "2004": {"cash": "101", "bank": "102", "receivable": "112", "fixed": "151", "depreciation": "152",
             "payable": "202", "wages": "211", "capital": "301", "reserve": "311", "profit": "321",
             "distribution": "322", "operating": "501", "contracting": "511", "investment": "561",
             "subsidy": "522", "other_income": "531", "operating_expense": "502", "management": "541",
             "other_expense": "551"},
    "2023": {"cash": "101", "bank": "102", "receivable": "112", "fixed": "151", "depreciation": "152",
             "payable": "211", "wages": "212", "capital": "301", "reserve": "311", "profit": "321",
             "distribution": "322", "operating": "501", "contracting": "501", "investment": "502",
             "subsidy": "503", "other_income": "504", "operating_expense": "511", "management": "513",
             "other_expense": "515"},
}
INCOMES = ("operating", "contracting", "investment", "subsidy", "other_income")
EXPENSES = ("operating_expense", "management", "other_expense")
PAYING = ("cash", "bank")
# This year's operating income so far, by band (yuan): villages take them in turn.
BAND_RANGES = (
    (150_000, 450_000), (20_000, 90_000), (550_000, 950_000), (1_100_000, 2_600_000),
    (120_000, 380_000), (40_000, 95_000), (600_000, 900_000),
)
REPRESENTATIVES = ("王建国", "李明", "张卫东", "刘志强", "陈永华", "杨国庆", "赵德胜", "黄春生", "周海军", "吴保平",
                   "徐长林", "孙红梅", "马玉兰", "朱学文", "胡建平", "郭世明")
CONTRACTING_SUMMARY = "收取土地及设施发包款"


def money(value) -> Decimal:
    return Decimal(value).quantize(CENT)


def split(total: Decimal, parts: int, rng) -> list[Decimal]:
    """``total`` in ``parts`` amounts to the fen, each near an equal share, adding up exactly."""
    if parts <= 0:
        return []
    weights = [rng.uniform(0.7, 1.3) for _i in range(parts)]
    scale = sum(weights)
    amounts = [money(total * Decimal(w / scale)) for w in weights[:-1]]
    return [*amounts, total - sum(amounts, Decimal(0))]


def base(name: str) -> str:
    """The account a line's name is on: ``fixed`` for ``fixed@ZC-001``."""
    return name.split("@", 1)[0]


@dataclass
class VillageBook:
    """One village's book as planned before anything is written: its figures and where its rows go."""

    index: int
    village: object  # the plan's Unit
    rng: object
    so_far: Decimal  # operating income this year up to the demo's last day
    last_year_total: Decimal
    opening: dict  # last year's opening balances by name (debit positive)
    book_id: int = 0
    organisation_id: int = 0
    year_ids: tuple[int, int] = (0, 0)  # (last year, this year)
    preparer: int | None = None
    reviewer: int | None = None
    subs: dict = field(default_factory=dict)  # line name → (sub-account id, code, label, account name)

    @property
    def key(self) -> dict:
        return {"id": self.book_id, "preparer": self.preparer, "reviewer": self.reviewer,
                "village": self.village.pk}


class Ledger:
    """A book year being written: vouchers, lines, and each line name's balance (debit positive)."""

    def __init__(self, writer, book_year_id: int, accounts: dict[str, int], subs: dict[str, int]):
        self.writer, self.book_year_id, self.accounts, self.subs = writer, book_year_id, accounts, subs
        self.balances: dict[str, Decimal] = defaultdict(Decimal)

    def line_ids(self, name: str) -> tuple[int, int | None]:
        """(account id, sub-account id or None) of a line name in this year's chart."""
        return self.accounts[base(name)], self.subs.get(name)

    @property
    def business(self) -> str:
        """Where the village's own business income goes: its project's income account when it has one."""
        return "operating@project" if "operating@project" in self.subs else "operating"

    def voucher(self, book, day: datetime.date, summary: str, lines, *, status="reviewed", kind="normal",
                decision=None) -> int:
        """``lines``: (name, debit, credit), one side each. Returns the voucher's id."""
        lines = [(name, money(debit), money(credit)) for name, debit, credit in lines if debit or credit]
        pk = self.writer.voucher(book, self, day, summary, lines, status, kind, decision)
        if status == "reviewed":
            for name, debit, credit in lines:
                self.balances[name] += debit - credit
        return pk


class Writer:
    """Rows for the tables, with explicit ids, and what to post afterwards.

    A posted payment above ``threshold`` (its credits on cash and bank) is noted with the decision it
    cites: ``decision`` (a key the decisions' seed resolves to an id), else the year's spending plan
    (``("plan", village id, year)``). The contracting vouchers are noted by book year and month: the
    contracts' payments received are linked to them (``registers``).
    """

    def __init__(self, ctx: DemoContext, threshold: Decimal):
        self.ctx = ctx
        self.threshold = threshold
        self.voucher_id = ctx.next_id(Voucher)
        self.line_id = ctx.next_id(VoucherLine)
        self.vouchers, self.lines, self.numbers = [], [], []
        self.month_numbers: dict[tuple, int] = defaultdict(int)
        self.cited: dict[tuple, list] = defaultdict(list)  # decision key → [(voucher row, amount paid)]
        self.contracting: dict[tuple, tuple] = {}  # (book year id, month) → (voucher id, date, amount)
        self.linked: dict[int, Decimal] = {}  # contracting voucher id → contract payments linked to it

    def voucher(self, book, ledger: Ledger, day, summary, lines, status, kind, decision):
        pk = self.voucher_id
        self.voucher_id += 1
        total = sum((debit for _n, debit, _c in lines), Decimal(0))
        preparer, reviewer = book["preparer"], book["reviewer"]
        at = self.ctx.datetime(datetime.datetime.combine(day, datetime.time(10), tzinfo=self.ctx.now.tzinfo))
        reviewed = status == "reviewed"
        row = [pk, book["id"], ledger.book_year_id, day.month, str(day), None, status, kind, None,
               0 if kind == "closing" else 1 + pk % 3, summary[:100], preparer, at,
               reviewer if reviewed else None, at if reviewed else None, None, None, str(total), str(total), None]
        self.vouchers.append(row)
        paid = sum((credit for name, _d, credit in lines if base(name) in PAYING), Decimal(0))
        if reviewed and kind == "normal" and paid > self.threshold:
            self.cited[decision or ("plan", book["village"], day.year)].append((row, paid, day))
        if reviewed:
            key = (ledger.book_year_id, day.month)
            self.month_numbers[key] += 1
            self.numbers.append((pk, self.month_numbers[key]))
        for position, (name, debit, credit) in enumerate(lines, 1):
            account, sub = ledger.line_ids(name)
            self.lines.append((self.line_id, pk, position, summary[:100], account, sub, str(debit), str(credit)))
            self.line_id += 1
        return pk

    def cite(self, decisions: dict) -> None:
        """Give each noted payment the id of the decision it cites (``decisions``: key → id)."""
        for key, payments in self.cited.items():
            for row, _paid, _day in payments:
                row[-1] = decisions[key]


VOUCHER_COLUMNS = ("id", "book_id", "book_year_id", "month", "date", "number", "status", "kind", "reverses_id",
                   "attachments", "summary", "prepared_by_id", "prepared_at", "reviewed_by_id", "reviewed_at",
                   "posted_by_id", "posted_at", "debit_total", "credit_total", "decision_id")
LINE_COLUMNS = ("id", "voucher_id", "position", "summary", "account_id", "sub_account_id", "debit", "credit")


def day_in(year: int, month: int, rng, last: datetime.date) -> datetime.date:
    top = calendar.monthrange(year, month)[1]
    if (year, month) == (last.year, last.month):
        top = last.day
    return datetime.date(year, month, rng.randint(1, top))


def write_month(ledger: Ledger, book, year: int, month: int, operating: Decimal, rng, last: datetime.date,
                current: bool = False) -> None:
    """One month of a village's vouchers: ``operating`` yuan of operating income, the rest around it."""
    def day():
        return day_in(year, month, rng, last)

    contracting = money(operating * Decimal(rng.uniform(0.45, 0.65)))
    investment = money(operating * Decimal(rng.uniform(0.05, 0.15))) if month % 3 == 0 or current else Decimal(0)
    business = operating - contracting - investment
    received = day()
    pk = ledger.voucher(book, received, CONTRACTING_SUMMARY,
                        [("bank", contracting, 0), ("contracting", 0, contracting)])
    ledger.writer.contracting[(ledger.book_year_id, month)] = (pk, received, contracting)
    if business > 0:
        ledger.voucher(book, day(), "集体经营收入", [("bank", business, 0), (ledger.business, 0, business)])
    elif business < 0:  # never: the shares above leave a positive rest
        raise ValueError("negative business income")
    if investment:
        ledger.voucher(book, day(), "收到入股分红", [("bank", investment, 0), ("investment", 0, investment)])
    if month in (3, 9) or (current and month % 3 == 0):
        subsidy = money(rng.randint(20_000, 120_000))
        ledger.voucher(book, day(), "收到上级转移支付补助", [("bank", subsidy, 0), ("subsidy", 0, subsidy)])
    cash = money(rng.randint(3_000, 8_000))
    ledger.voucher(book, day(), "提取备用金", [("cash", cash, 0), ("bank", 0, cash)])
    office = money(rng.randint(800, 2_500) + rng.random())
    ledger.voucher(book, day(), "支付办公及水电费", [("management", office, 0), ("cash", 0, office)])
    wages = money(rng.randint(6_000, 12_000))
    ledger.voucher(book, day(), "计提村干部报酬", [("management", wages, 0), ("wages", 0, wages)])
    ledger.voucher(book, day(), "发放村干部报酬", [("wages", wages, 0), ("bank", 0, wages)])
    expense = money(operating * Decimal(rng.uniform(0.1, 0.3)))
    if expense:
        ledger.voucher(book, day(), "支付经营项目成本", [("operating_expense", expense, 0), ("bank", 0, expense)])


def opening_balances(rng) -> dict[str, Decimal]:
    """Balances at the start of the first year (debit positive), balancing."""
    balances = {
        "cash": money(rng.randint(2_000, 15_000)), "bank": money(rng.randint(300_000, 2_500_000)),
        "receivable": money(rng.randint(0, 150_000)), "fixed": money(rng.randint(500_000, 6_000_000)),
    }
    balances["depreciation"] = -money(balances["fixed"] * Decimal(rng.uniform(0.1, 0.4)))
    balances["payable"] = -money(rng.randint(10_000, 200_000))
    balances["reserve"] = -money(rng.randint(50_000, 400_000))
    balances["capital"] = -sum(balances.values(), Decimal(0))
    return balances


def close_year(ledger: Ledger, book, year: int) -> None:
    """The year-end carry-forward (two closing vouchers on 31 December) from the ledger's balances."""
    day = datetime.date(year, 12, 31)
    lines, result = [], Decimal(0)
    for kind in (*INCOMES, *EXPENSES):
        for name in sorted(n for n in ledger.balances if base(n) == kind):
            amount = ledger.balances[name]
            if amount:
                lines.append((name, -amount if amount < 0 else 0, amount if amount > 0 else 0))
                result += amount
    if lines:
        lines.append(("profit", result if result > 0 else 0, -result if result < 0 else 0))
        ledger.voucher(book, day, "年终结转本年收益", lines, kind="closing")
    profit = ledger.balances["profit"]
    if profit:
        ledger.voucher(book, day, "结转本年收益至收益分配",
                       [("profit", -profit if profit < 0 else 0, profit if profit > 0 else 0),
                        ("distribution", profit if profit > 0 else 0, -profit if profit < 0 else 0)], kind="closing")


def opening_rows(ledger: Ledger, balances: dict[str, Decimal], next_id: int) -> list[tuple]:
    """OpeningBalance rows of ``balances`` (by line name), one per account and detail account."""
    merged: dict[tuple, Decimal] = defaultdict(Decimal)
    for name, amount in balances.items():
        if amount:
            merged[ledger.line_ids(name)] += amount
    rows = []
    for (account, sub), amount in merged.items():
        if amount:
            rows.append((next_id, ledger.book_year_id, account, sub, str(max(amount, 0)), str(max(-amount, 0))))
            next_id += 1
    return rows


def post_and_close(ctx: DemoContext, numbers: list[tuple[int, int]], year: int, month: int, now) -> None:
    """Post the reviewed vouchers in one UPDATE (their numbers from a temporary table), then close last
    year's months and this year's before the current one."""
    quote = connection.ops.quote_name
    voucher, line, period, book_year = (quote(model._meta.db_table) for model in (Voucher, VoucherLine, Period,
                                                                                   BookYear))
    postgres = connection.vendor == "postgresql"
    with ctx.cursor() as cursor:
        if postgres:
            # The loader dropped the indexes; the triggers look lines and months up once per voucher.
            cursor.execute(f"CREATE INDEX ce_demo_line_voucher ON {line} (voucher_id)")
            cursor.execute(f"CREATE INDEX ce_demo_period_month ON {period} (book_year_id, month)")
            # The decision gate finds each voucher's county through the book, its village and the
            # tree: planned on statistics of the empty tables the seed began with, it read every unit
            # for every voucher (a city's posting ran for more than a quarter of an hour).
            for table in (line, period, quote(Book._meta.db_table), quote(OrgUnit._meta.db_table),
                          quote(DecisionRules._meta.db_table), quote(Decision._meta.db_table)):
                cursor.execute(f"ANALYZE {table}")
        cursor.execute("CREATE TEMPORARY TABLE ce_demo_number (id integer PRIMARY KEY, number integer NOT NULL)")
        for i in range(0, len(numbers), 1000):
            batch = numbers[i:i + 1000]
            cursor.execute("INSERT INTO ce_demo_number (id, number) VALUES " + ", ".join("(%s, %s)" for _r in batch),
                           [value for row in batch for value in row])
        cursor.execute(
            f"UPDATE {voucher} SET status = 'posted', posted_by_id = prepared_by_id, posted_at = reviewed_at, "
            f"number = (SELECT n.number FROM ce_demo_number n WHERE n.id = {voucher}.id) "
            f"WHERE id IN (SELECT id FROM ce_demo_number)")
        cursor.execute("DROP TABLE ce_demo_number")
        cursor.execute(
            f"UPDATE {period} SET closed = %s, closed_at = %s, closed_by_id = "
            f"(SELECT y.closed_by_id FROM {book_year} y WHERE y.id = {period}.book_year_id) "
            f"WHERE book_year_id IN (SELECT id FROM {book_year} WHERE year = %s)",
            [True, now, year - 1])
        # Each book year's first reviewer, once: looked up per month from the vouchers (whose indexes
        # the loader dropped) it read every voucher for every month, for most of an hour at city scale.
        cursor.execute("CREATE TEMPORARY TABLE ce_demo_reviewer (id integer PRIMARY KEY, reviewed_by_id integer)")
        cursor.execute(
            f"INSERT INTO ce_demo_reviewer (id, reviewed_by_id) SELECT v.book_year_id, v.reviewed_by_id "
            f"FROM {voucher} v WHERE v.id IN (SELECT MIN(id) FROM {voucher} WHERE reviewed_by_id IS NOT NULL "
            f"GROUP BY book_year_id)")
        cursor.execute(
            f"UPDATE {period} SET closed = %s, closed_at = %s, closed_by_id = "
            f"(SELECT r.reviewed_by_id FROM ce_demo_reviewer r WHERE r.id = {period}.book_year_id) "
            f"WHERE month < %s AND book_year_id IN (SELECT id FROM {book_year} WHERE year = %s)",
            [True, now, month, year])
        cursor.execute("DROP TABLE ce_demo_reviewer")
        if postgres:
            cursor.execute("DROP INDEX ce_demo_line_voucher")
            cursor.execute("DROP INDEX ce_demo_period_month")

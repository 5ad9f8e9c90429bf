"""Demo books: every demo village gets its economic organisation and a book with last year closed and this
year up to the demo's last day, so the dashboards open with operating income this year so far and last year.

Plugged into ``seed_demo`` through governance's demo hooks (``register`` at the bottom), written in bulk
with explicit ids like the other apps' demo rows:

- an economic organisation (股份经济合作社) per village, with a valid GB 32100 credit code; about half
  led by the village party organisation;
- a book kept under the chart in force (the 2023 rules from 2024 on, the 2004 rules before), kept by
  the village's demo user where there is one (else the demo administrator keeps it alone);
- last year: opening balances, twelve months of vouchers, the year-end carry-forward (kind closing)
  to 本年收益 and on to 收益分配, every month and the year closed; this year: the closing balances as
  opening balances (mapped onto the new chart when the rules changed), vouchers up to the demo's last
  day (contracting and operating income, investment income, subsidies, wages, management and
  operating expenses), the months before the current one closed, and in the current month a draft
  and a voucher awaiting review;
- the villages' operating income this year so far spread over the four bands (some weak, some
  1,000,000 yuan or more).

Vouchers cannot be inserted as posted (the ledger's triggers): they are written as reviewed with their
totals, the lines follow, then one UPDATE posts them and gives their numbers (the triggers check the
balance and the open month there), and the months are closed after.
"""

import calendar
import datetime
from collections import defaultdict
from decimal import Decimal

from django.db import connection

from collective_economy.models import (
    Book,
    BookYear,
    Chart,
    ChartAccount,
    ChartMapping,
    EconomicOrganisation,
    OpeningBalance,
    Period,
    Voucher,
    VoucherLine,
)
from collective_economy.services.charts import charts_load_shipped
from collective_economy.triggers import install, uninstall
from governance.demo.hooks import DemoContext, register
from governance.models import Level, Role, User
from governance.validators import credit_check_char

BookKeepers = Book.bookkeepers.through
# Parents before children: the seed writes them in this order, the reset deletes them in the reverse.
MODELS = (EconomicOrganisation, Book, BookKeepers, BookYear, Period, OpeningBalance, Voucher, VoucherLine)

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
# This year's operating income so far, by band (yuan): villages take them in turn.
BAND_RANGES = (
    (150_000, 450_000), (20_000, 90_000), (550_000, 950_000), (1_100_000, 2_600_000),
    (120_000, 380_000), (40_000, 95_000), (600_000, 900_000),
)
REPRESENTATIVES = ("王建国", "李明", "张卫东", "刘志强", "陈永华", "杨国庆", "赵德胜", "黄春生", "周海军", "吴保平",
                   "徐长林", "孙红梅", "马玉兰", "朱学文", "胡建平", "郭世明")


def _money(value) -> Decimal:
    return Decimal(value).quantize(CENT)


def _split(total: Decimal, parts: int, rng) -> list[Decimal]:
    """``total`` in ``parts`` amounts to the fen, each near an equal share, adding up exactly."""
    if parts <= 0:
        return []
    weights = [rng.uniform(0.7, 1.3) for _i in range(parts)]
    scale = sum(weights)
    amounts = [_money(total * Decimal(w / scale)) for w in weights[:-1]]
    return [*amounts, total - sum(amounts, Decimal(0))]


class Ledger:
    """A book year being written: vouchers, lines, and each account's balance (debit positive)."""

    def __init__(self, writer, book_year_id: int, accounts: dict[str, int]):
        self.writer, self.book_year_id, self.accounts = writer, book_year_id, accounts
        self.balances: dict[str, Decimal] = defaultdict(Decimal)

    def voucher(self, book, day: datetime.date, summary: str, lines, *, status="reviewed", kind="normal"):
        """``lines``: (name, debit, credit); debit and credit are Decimals, one of them 0."""
        lines = [(name, _money(debit), _money(credit)) for name, debit, credit in lines if debit or credit]
        self.writer.voucher(book, self, day, summary, lines, status, kind)
        if status == "reviewed":
            for name, debit, credit in lines:
                self.balances[name] += debit - credit


class Writer:
    """Rows for the tables, with explicit ids, and what to post afterwards."""

    def __init__(self, ctx: DemoContext):
        self.ctx = ctx
        self.voucher_id = ctx.next_id(Voucher)
        self.line_id = ctx.next_id(VoucherLine)
        self.vouchers, self.lines, self.numbers = [], [], []
        self.month_numbers: dict[tuple, int] = defaultdict(int)

    def voucher(self, book, ledger: Ledger, day, summary, lines, status, kind):
        pk = self.voucher_id
        self.voucher_id += 1
        total = sum((debit for _n, debit, _c in lines), Decimal(0))
        preparer, reviewer = book["preparer"], book["reviewer"]
        at = self.ctx.datetime(datetime.datetime.combine(day, datetime.time(10), tzinfo=self.ctx.now.tzinfo))
        reviewed = status == "reviewed"
        self.vouchers.append((pk, book["id"], ledger.book_year_id, day.month, str(day), None, status, kind, None,
                              0 if kind == "closing" else 1 + pk % 3, summary[:100], preparer, at,
                              reviewer if reviewed else None, at if reviewed else None, None, None, str(total),
                              str(total)))
        if reviewed:
            key = (ledger.book_year_id, day.month)
            self.month_numbers[key] += 1
            self.numbers.append((pk, self.month_numbers[key]))
        for position, (name, debit, credit) in enumerate(lines, 1):
            self.lines.append((self.line_id, pk, position, summary[:100], ledger.accounts[name], None, str(debit),
                               str(credit)))
            self.line_id += 1


VOUCHER_COLUMNS = ("id", "book_id", "book_year_id", "month", "date", "number", "status", "kind", "reverses_id",
                   "attachments", "summary", "prepared_by_id", "prepared_at", "reviewed_by_id", "reviewed_at",
                   "posted_by_id", "posted_at", "debit_total", "credit_total")
LINE_COLUMNS = ("id", "voucher_id", "position", "summary", "account_id", "sub_account_id", "debit", "credit")


def _day(year: int, month: int, rng, last: datetime.date) -> datetime.date:
    top = calendar.monthrange(year, month)[1]
    if (year, month) == (last.year, last.month):
        top = last.day
    return datetime.date(year, month, rng.randint(1, top))


def _month(ledger: Ledger, book, year: int, month: int, operating: Decimal, rng, last: datetime.date,
           current: bool = False) -> None:
    """One month of a village's vouchers: ``operating`` yuan of operating income, the rest around it."""
    def day():
        return _day(year, month, rng, last)

    contracting = _money(operating * Decimal(rng.uniform(0.45, 0.65)))
    investment = _money(operating * Decimal(rng.uniform(0.05, 0.15))) if month % 3 == 0 or current else Decimal(0)
    business = operating - contracting - investment
    ledger.voucher(book, day(), "收取土地及设施发包款", [("bank", contracting, 0), ("contracting", 0, contracting)])
    if business > 0:
        ledger.voucher(book, day(), "集体经营收入", [("bank", business, 0), ("operating", 0, business)])
    elif business < 0:  # never: the shares above leave a positive rest
        raise ValueError("negative business income")
    if investment:
        ledger.voucher(book, day(), "收到入股分红", [("bank", investment, 0), ("investment", 0, investment)])
    if month in (3, 9) or (current and month % 3 == 0):
        subsidy = _money(rng.randint(20_000, 120_000))
        ledger.voucher(book, day(), "收到上级转移支付补助", [("bank", subsidy, 0), ("subsidy", 0, subsidy)])
    cash = _money(rng.randint(3_000, 8_000))
    ledger.voucher(book, day(), "提取备用金", [("cash", cash, 0), ("bank", 0, cash)])
    office = _money(rng.randint(800, 2_500) + rng.random())
    ledger.voucher(book, day(), "支付办公及水电费", [("management", office, 0), ("cash", 0, office)])
    wages = _money(rng.randint(6_000, 12_000))
    ledger.voucher(book, day(), "计提村干部报酬", [("management", wages, 0), ("wages", 0, wages)])
    ledger.voucher(book, day(), "发放村干部报酬", [("wages", wages, 0), ("bank", 0, wages)])
    expense = _money(operating * Decimal(rng.uniform(0.1, 0.3)))
    if expense:
        ledger.voucher(book, day(), "支付经营项目成本", [("operating_expense", expense, 0), ("bank", 0, expense)])


def _opening(rng) -> dict[str, Decimal]:
    """Balances at the start of the first year (debit positive), balancing."""
    balances = {
        "cash": _money(rng.randint(2_000, 15_000)), "bank": _money(rng.randint(300_000, 2_500_000)),
        "receivable": _money(rng.randint(0, 150_000)), "fixed": _money(rng.randint(500_000, 6_000_000)),
    }
    balances["depreciation"] = -_money(balances["fixed"] * Decimal(rng.uniform(0.1, 0.4)))
    balances["payable"] = -_money(rng.randint(10_000, 200_000))
    balances["reserve"] = -_money(rng.randint(50_000, 400_000))
    balances["capital"] = -sum(balances.values(), Decimal(0))
    return balances


def _close_year(ledger: Ledger, book, year: int) -> None:
    """The year-end carry-forward (two closing vouchers on 31 December) from the ledger's balances."""
    day = datetime.date(year, 12, 31)
    incomes = ("operating", "contracting", "investment", "subsidy", "other_income")
    expenses = ("operating_expense", "management", "other_expense")
    lines, result = [], Decimal(0)
    seen = set()
    for name in (*incomes, *expenses):
        code = ledger.accounts[name]
        if code in seen:  # 2023: contracting income is operating income (501)
            continue
        seen.add(code)
        amount = sum((b for n, b in ledger.balances.items() if ledger.accounts[n] == code), Decimal(0))
        if amount:
            lines.append((name, -amount if amount < 0 else 0, amount if amount > 0 else 0))
            result += amount
    if lines:
        lines.append(("profit", result if result > 0 else 0, -result if result < 0 else 0))
        ledger.voucher(book, day, "年终结转本年收益", lines, kind="closing")
        for name, *_rest in lines[:-1]:
            code = ledger.accounts[name]
            for n in list(ledger.balances):
                if ledger.accounts[n] == code:
                    ledger.balances[n] = Decimal(0)
    profit = ledger.balances["profit"]
    if profit:
        ledger.voucher(book, day, "结转本年收益至收益分配",
                       [("profit", -profit if profit < 0 else 0, profit if profit > 0 else 0),
                        ("distribution", profit if profit > 0 else 0, -profit if profit < 0 else 0)], kind="closing")


def _demo_users(ctx: DemoContext) -> tuple[dict, dict, int]:
    """The demo users the books need, created now (``seed_demo`` completes them after the apps' seeds):
    {village id: its user id}, {township id: its user id}, the administrator's id."""
    wanted = [*ctx.plan.users.items(), *ctx.plan.staff.items()]
    existing = {user.username: user for user in User.objects.filter(username__in=[name for name, _r in wanted])}
    for username, (role, unit) in wanted:
        if username not in existing:
            existing[username] = User.objects.create(username=username, role=role, home_unit_id=unit.pk,
                                                     is_staff=True, is_superuser=role == Role.ADMIN)
    villages, townships, admin = {}, {}, None
    for username, (role, unit) in wanted:
        user_id = existing[username].pk
        if role == Role.VILLAGE:
            villages.setdefault(unit.pk, user_id)
        elif role == Role.TOWNSHIP:
            townships.setdefault(unit.pk, user_id)
        elif role == Role.ADMIN:
            admin = user_id
    return villages, townships, admin


def _charts() -> dict[str, Chart]:
    if Chart.objects.filter(code__in=CODES).count() < len(CODES):
        charts_load_shipped()
    return {chart.code: chart for chart in Chart.objects.filter(code__in=CODES)}


def _in_force(charts: dict[str, Chart], year: int) -> Chart:
    return charts["2023"] if year >= 2024 else charts["2004"]


def seed(ctx: DemoContext) -> None:
    with ctx.step("collective economy books"):
        _seed(ctx)


def _seed(ctx: DemoContext) -> None:
    last = ctx.as_of
    year, previous = last.year, last.year - 1
    charts = _charts()
    chart_now, chart_before = _in_force(charts, year), _in_force(charts, previous)
    ids = {chart.code: {a.code: a.pk for a in ChartAccount.objects.filter(chart=chart)} for chart in charts.values()}
    accounts_now = {name: ids[chart_now.code][code] for name, code in CODES[chart_now.code].items()}
    accounts_before = {name: ids[chart_before.code][code] for name, code in CODES[chart_before.code].items()}
    # Last year's closing balances onto this year's chart, by the old → new table when the rules changed.
    mapped = {}
    if chart_now.pk != chart_before.pk:
        table = dict(ChartMapping.objects.filter(source__chart=chart_before, target__chart=chart_now)
                     .values_list("source_id", "target_id"))
        mapped = {name: table[account] for name, account in accounts_before.items() if account in table}
    village_users, township_users, admin = _demo_users(ctx)
    villages = ctx.units(Level.VILLAGE)
    writer = Writer(ctx)
    organisation_id, book_id = ctx.next_id(EconomicOrganisation), ctx.next_id(Book)
    year_id, period_id = ctx.next_id(BookYear), ctx.next_id(Period)
    opening_id, keeper_id = ctx.next_id(OpeningBalance), ctx.next_id(BookKeepers)
    organisations, books, keepers, years, periods, openings = [], [], [], [], [], []
    now = ctx.datetime(ctx.now)
    for index, village in enumerate(villages):
        rng = ctx.rng("collective_economy", village.code)
        name = f"{village.short_name or village.name}股份经济合作社"
        first17 = f"N2{village.code[:6]}{index + 1:09d}"
        registered = datetime.date(2018 + index % 4, 1 + index % 12, 1 + index % 28)
        organisations.append((organisation_id, village.pk, name, first17 + credit_check_char(first17),
                              REPRESENTATIVES[index % len(REPRESENTATIVES)], str(registered), index % 2 == 0))
        keeper = village_users.get(village.pk)
        township = village.parent
        while township is not None and township.level != Level.TOWNSHIP:
            township = township.parent
        reviewer = township_users.get(township.pk if township else None) or admin
        preparer = keeper or admin
        book = {"id": book_id, "preparer": preparer, "reviewer": reviewer}
        books.append((book_id, village.pk, organisation_id, name, preparer != reviewer, now))
        if keeper:
            keepers.append((keeper_id, book_id, keeper))
            keeper_id += 1
        before = Ledger(writer, year_id, accounts_before)
        current = Ledger(writer, year_id + 1, accounts_now)
        years += [(year_id, book_id, previous, chart_before.pk, True, now, reviewer),
                  (year_id + 1, book_id, year, chart_now.pk, False, None, None)]
        for book_year in (year_id, year_id + 1):
            for month in range(1, 13):
                periods.append((period_id, book_year, month, False, None, None))
                period_id += 1
        # Last year: imported opening balances, twelve months, the carry-forward.
        low, high = BAND_RANGES[index % len(BAND_RANGES)]
        so_far = _money(rng.randint(low, high))
        last_year_total = _money(so_far * 12 / last.month * Decimal(rng.uniform(0.8, 1.05)))
        opening = _opening(rng)
        for name_, amount in opening.items():
            openings.append((opening_id, year_id, accounts_before[name_], None, str(max(amount, 0)),
                             str(max(-amount, 0))))
            opening_id += 1
            before.balances[name_] += amount
        for month, amount in enumerate(_split(last_year_total, 12, rng), 1):
            _month(before, book, previous, month, amount, rng, datetime.date(previous, 12, 31))
        _close_year(before, book, previous)
        # This year: last year's closing balances, then the months up to the demo's last day.
        carried: dict[int, Decimal] = defaultdict(Decimal)
        for name_, amount in before.balances.items():
            if amount:
                account = mapped.get(name_, accounts_before[name_]) if mapped else accounts_before[name_]
                carried[account] += amount
        by_id = {account: name_ for name_, account in accounts_now.items()}
        for account, amount in carried.items():
            if amount:
                openings.append((opening_id, year_id + 1, account, None, str(max(amount, 0)), str(max(-amount, 0))))
                opening_id += 1
                current.balances[by_id.get(account, str(account))] += amount
        for month, amount in enumerate(_split(so_far, last.month, rng), 1):
            _month(current, book, year, month, amount, rng, last, current=month == last.month)
        # In the current month: a draft, and a voucher awaiting review.
        fee = _money(rng.randint(500, 3_000))
        current.voucher(book, _day(year, last.month, rng, last), "支付村务公开栏维修费",
                        [("management", fee, 0), ("cash", 0, fee)], status="draft")
        current.voucher(book, _day(year, last.month, rng, last), "收取集体房屋租金",
                        [("cash", fee * 2, 0), ("operating", 0, fee * 2)], status="submitted")
        organisation_id, book_id, year_id = organisation_id + 1, book_id + 1, year_id + 2
    ctx.write(EconomicOrganisation, ("id", "village_id", "name", "credit_code", "legal_representative",
                                     "registered_on", "party_led"), organisations)
    ctx.write(Book, ("id", "village_id", "organisation_id", "name", "separate_review", "created_at"), books)
    ctx.write(BookKeepers, ("id", "book_id", "user_id"), keepers)
    ctx.write(BookYear, ("id", "book_id", "year", "chart_id", "closed", "closed_at", "closed_by_id"), years)
    ctx.write(Period, ("id", "book_year_id", "month", "closed", "closed_at", "closed_by_id"), periods)
    ctx.write(OpeningBalance, ("id", "book_year_id", "account_id", "sub_account_id", "debit", "credit"), openings)
    ctx.write(Voucher, VOUCHER_COLUMNS, writer.vouchers)
    ctx.write(VoucherLine, LINE_COLUMNS, writer.lines)
    _post_and_close(ctx, writer.numbers, year, last.month, connection.ops.adapt_datetimefield_value(ctx.now))


def _post_and_close(ctx: DemoContext, numbers: list[tuple[int, int]], year: int, month: int, now) -> None:
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
            cursor.execute(f"ANALYZE {line}")
            cursor.execute(f"ANALYZE {period}")
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
        cursor.execute(
            f"UPDATE {period} SET closed = %s, closed_at = %s, closed_by_id = "
            f"(SELECT v.reviewed_by_id FROM {voucher} v WHERE v.book_year_id = {period}.book_year_id "
            f"AND v.reviewed_by_id IS NOT NULL ORDER BY v.id LIMIT 1) "
            f"WHERE month < %s AND book_year_id IN (SELECT id FROM {book_year} WHERE year = %s)",
            [True, now, month, year])
        if postgres:
            cursor.execute("DROP INDEX ce_demo_line_voucher")
            cursor.execute("DROP INDEX ce_demo_period_month")


def reset() -> None:
    """Delete every row of the app's demo models, children first, with the ledger's triggers lifted for
    that moment (they refuse deleting posted vouchers, as they should everywhere else)."""
    uninstall(connection)
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {connection.ops.quote_name(Voucher._meta.db_table)} SET reverses_id = NULL "
                           f"WHERE reverses_id IS NOT NULL")
            for model in reversed(MODELS):
                cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")
    finally:
        install(connection)


register(seed=seed, reset=reset, models=MODELS)

"""The collective economy's demo data, for every demo village: its books (``books``), its registers — assets,
resources, contracts and their schedules, receivables and debts, projects (``registers``) — and its village
decisions (``decisions``), which the payments above the threshold, the contracts and the projects cite.

Plugged into ``seed_demo`` through governance's demo hooks (``register`` at the bottom). Rows are written in bulk
with explicit ids like the other apps' demo rows; the decisions go through the decision services, step by step.
The order follows what cites what: each village's books and registers are planned first (no database), the
books' rows written, the decisions recorded, the vouchers written citing them and posted (the ledger's
triggers check the balance, the open month and the decision gate), then the registers, whose payments received
are linked to the posted vouchers.
"""

import datetime
from decimal import Decimal

from django.db import connection

from collective_economy.demo import books as ledger
from collective_economy.demo import registers
from collective_economy.demo.decisions import Recorder
from collective_economy.models import (
    DEFAULT_PAYMENT_THRESHOLD,
    Asset,
    Book,
    BookYear,
    Chart,
    ChartAccount,
    Contract,
    ContractInstalment,
    ContractPayment,
    DebtRecord,
    DebtSettlement,
    Decision,
    DecisionFile,
    DecisionRecord,
    DecisionSignature,
    EconomicOrganisation,
    OpeningBalance,
    Period,
    Project,
    ProjectCategory,
    Resource,
    SubAccount,
    VillageDecisionSetting,
    Voucher,
    VoucherLine,
)
from collective_economy.services.charts import charts_load_shipped
from collective_economy.triggers import install, uninstall
from governance.demo.hooks import DemoContext, register
from governance.models import Level, Relation, Resident, Role, User
from governance.validators import credit_check_char

BookKeepers = Book.bookkeepers.through
# Parents before children: the seed writes them in this order, the reset deletes them in the reverse.
MODELS = (EconomicOrganisation, Book, BookKeepers, BookYear, Period, SubAccount, OpeningBalance,
          VillageDecisionSetting, Decision, DecisionRecord, DecisionFile, DecisionSignature, Voucher, VoucherLine,
          Resource, Asset, Contract, ContractInstalment, ContractPayment, DebtRecord, DebtSettlement, ProjectCategory,
          Project, registers.ProjectVillages, registers.ProjectIncome)


def _demo_users(ctx: DemoContext) -> tuple[dict, dict, int]:
    """The demo users the books need, created now (``seed_demo`` completes them after the apps' seeds):
    {village id: its user id}, {township id: its user id}, the administrator's id."""
    wanted = [*ctx.plan.users.items(), *ctx.plan.staff.items()]
    existing = {user.username: user for user in User.objects.filter(username__in=[name for name, _r in wanted])}
    for username, (role, unit) in wanted:
        if username not in existing:
            # seed_demo completes them (is_staff by role, password, must_change_password) after the apps' seeds.
            existing[username] = User.objects.create(username=username, role=role, home_unit_id=unit.pk,
                                                     is_superuser=role == Role.ADMIN)
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
    if Chart.objects.filter(code__in=ledger.CODES).count() < len(ledger.CODES):
        charts_load_shipped()
    return {chart.code: chart for chart in Chart.objects.filter(code__in=ledger.CODES)}


def _in_force(charts: dict[str, Chart], year: int) -> Chart:
    return charts["2023"] if year >= 2024 else charts["2004"]


def _residents(ctx: DemoContext, villages) -> dict[int, list[int]]:
    """{village id: the heads of its first households}, three a village, in one query."""
    wanted: dict[int, int] = {}
    for village in villages:
        stack, found = [village], []
        while stack and len(found) < 3:
            unit = stack.pop(0)
            if unit.households:
                found += list(ctx.household_ids(unit))[:3 - len(found)]
            stack[:0] = sorted(unit.children, key=lambda child: child.code)
        wanted.update({household: village.pk for household in found})
    heads: dict[int, list[int]] = {village.pk: [] for village in villages}
    rows = ctx.query(Resident.objects.filter(household_id__in=list(wanted), relation=Relation.HEAD)
                     .order_by("household_id", "pk").values_list("household_id", "pk"))
    for household, resident in rows:
        heads[wanted[household]].append(resident)
    return heads


def seed(ctx: DemoContext) -> None:
    last = ctx.as_of
    with ctx.step("collective economy books"):
        state = _plan_books(ctx, last)
    with ctx.step("collective economy decisions"):
        recorder = _decisions(ctx, state, last)
    with ctx.step("collective economy vouchers"):
        state["writer"].cite(recorder.ids)
        ctx.write(Voucher, ledger.VOUCHER_COLUMNS, [tuple(row) for row in state["writer"].vouchers])
        ctx.write(VoucherLine, ledger.LINE_COLUMNS, state["writer"].lines)
        ledger.post_and_close(ctx, state["writer"].numbers, last.year, last.month,
                              connection.ops.adapt_datetimefield_value(ctx.now))
    with ctx.step("collective economy registers"):
        registers.write(ctx, state["books"], state["plans"], state["writer"], recorder.ids, state["recorders"], last)


def _plan_books(ctx: DemoContext, last: datetime.date) -> dict:
    """Every village's book and registers planned, the books' vouchers generated (not yet written) and the
    other rows of the books written."""
    year, previous = last.year, last.year - 1
    charts = _charts()
    chart_now, chart_before = _in_force(charts, year), _in_force(charts, previous)
    ids = {chart.code: {a.code: a.pk for a in ChartAccount.objects.filter(chart=chart)} for chart in charts.values()}
    accounts_now = {name: ids[chart_now.code][code] for name, code in ledger.CODES[chart_now.code].items()}
    accounts_before = {name: ids[chart_before.code][code] for name, code in ledger.CODES[chart_before.code].items()}
    village_users, township_users, admin = _demo_users(ctx)
    villages = ctx.units(Level.VILLAGE)
    residents = _residents(ctx, villages)
    writer = ledger.Writer(ctx, DEFAULT_PAYMENT_THRESHOLD)  # the demo county keeps the default rules
    next_ids = {model: ctx.next_id(model) for model in (EconomicOrganisation, Book, BookYear, Period, OpeningBalance,
                                                        BookKeepers, SubAccount)}
    rows = {model: [] for model in next_ids}
    now = ctx.datetime(ctx.now)
    books = []
    for index, village in enumerate(villages):
        rng = ctx.rng("collective_economy", village.code)
        low, high = ledger.BAND_RANGES[index % len(ledger.BAND_RANGES)]
        so_far = ledger.money(rng.randint(low, high))
        last_year_total = ledger.money(so_far * 12 / last.month * Decimal(rng.uniform(0.8, 1.05)))
        books.append(ledger.VillageBook(index, village, rng, so_far, last_year_total, ledger.opening_balances(rng)))
    six_step = ctx.plan.users["village_a"][1].pk
    plans = {}
    for book in books:
        following = villages[book.index + 1] if book.index + 1 < len(villages) else None
        partner = following if book.index % 4 == 0 and following is not None else None
        plans[book.village.pk] = registers.plan_village(book, ctx, residents[book.village.pk], partner, last)
    recorders = {}
    for book in books:
        village, index = book.village, book.index
        plan = plans[village.pk]
        book.organisation_id, book.book_id = next_ids[EconomicOrganisation], next_ids[Book]
        next_ids[EconomicOrganisation] += 1
        next_ids[Book] += 1
        name = f"{village.short_name or village.name}股份经济合作社"
        first17 = f"N2{village.code[:6]}{index + 1:09d}"
        registered = datetime.date(2018 + index % 4, 1 + index % 12, 1 + index % 28)
        rows[EconomicOrganisation].append((book.organisation_id, village.pk, name, first17 + credit_check_char(first17),
                                           ledger.REPRESENTATIVES[index % len(ledger.REPRESENTATIVES)],
                                           str(registered), index % 2 == 0))
        keeper = village_users.get(village.pk)
        township = village.parent
        while township is not None and township.level != Level.TOWNSHIP:
            township = township.parent
        book.reviewer = township_users.get(township.pk if township else None) or admin
        book.preparer = keeper or admin
        recorders[village.pk] = book.preparer
        rows[Book].append((book.book_id, village.pk, book.organisation_id, name, book.preparer != book.reviewer, now))
        if keeper:
            rows[BookKeepers].append((next_ids[BookKeepers], book.book_id, keeper))
            next_ids[BookKeepers] += 1
        year_id = next_ids[BookYear]
        next_ids[BookYear] += 2
        book.year_ids = (year_id, year_id + 1)
        rows[BookYear] += [(year_id, book.book_id, previous, chart_before.pk, True, now, book.reviewer),
                           (year_id + 1, book.book_id, year, chart_now.pk, False, None, None)]
        for book_year in book.year_ids:
            for month in range(1, 13):
                rows[Period].append((next_ids[Period], book_year, month, False, None, None))
                next_ids[Period] += 1
        # Detail accounts: one per asset under the fixed assets, one for the project's income.
        for position, asset in enumerate(plan.assets, 1):
            book.subs[f"fixed@{asset.code}"] = (next_ids[SubAccount], f"151{position:03d}", asset.name, "fixed")
            next_ids[SubAccount] += 1
        project = next((p for p in plan.projects if p.income), None)
        if project is not None:
            book.subs["operating@project"] = (next_ids[SubAccount], "501001", f"{project.name}收入", "operating")
            next_ids[SubAccount] += 1
        for sub_id, code, label, account in book.subs.values():
            rows[SubAccount].append((sub_id, book.book_id, accounts_now[account], code, label[:60], True))
        subs_now = {name: sub[0] for name, sub in book.subs.items()}
        before = ledger.Ledger(writer, year_id, accounts_before, subs_now if chart_before.pk == chart_now.pk else {})
        current = ledger.Ledger(writer, year_id + 1, accounts_now, subs_now)
        _write_years(book, plan, before, current, rows, next_ids, last)
    ctx.write(EconomicOrganisation, ("id", "village_id", "name", "credit_code", "legal_representative",
                                     "registered_on", "party_led"), rows[EconomicOrganisation])
    ctx.write(Book, ("id", "village_id", "organisation_id", "name", "separate_review", "created_at"), rows[Book])
    ctx.write(BookKeepers, ("id", "book_id", "user_id"), rows[BookKeepers])
    ctx.write(BookYear, ("id", "book_id", "year", "chart_id", "closed", "closed_at", "closed_by_id"), rows[BookYear])
    ctx.write(Period, ("id", "book_year_id", "month", "closed", "closed_at", "closed_by_id"), rows[Period])
    ctx.write(SubAccount, ("id", "book_id", "account_id", "code", "name", "is_active"), rows[SubAccount])
    ctx.write(OpeningBalance, ("id", "book_year_id", "account_id", "sub_account_id", "debit", "credit"),
              rows[OpeningBalance])
    return {"books": books, "plans": plans, "writer": writer, "recorders": recorders, "six_step": six_step}


def _write_years(book, plan, before, current, rows, next_ids, last: datetime.date) -> None:
    """Last year (opening balances, its months, the carry-forward) and this year (last year's closing balances,
    its months to the demo's last day); the project's construction paid in the year it fell in."""
    year, previous = last.year, last.year - 1
    rng, key = book.rng, book.key
    opening = dict(book.opening)
    fixed = opening.pop("fixed")
    for asset in plan.assets[:4]:
        opening[f"fixed@{asset.code}"] = asset.value
    assert sum((asset.value for asset in plan.assets[:4]), Decimal(0)) == fixed
    opening_rows = ledger.opening_rows(before, opening, next_ids[OpeningBalance])
    next_ids[OpeningBalance] += len(opening_rows)
    rows[OpeningBalance] += opening_rows
    before.balances.update(opening)
    project = next((p for p in plan.projects if p.paid_on is not None), None)
    for month, amount in enumerate(ledger.split(book.last_year_total, 12, rng), 1):
        ledger.write_month(before, key, previous, month, amount, rng, datetime.date(previous, 12, 31))
    if project is not None and project.paid_on.year == previous:
        _pay(before, key, project)
    ledger.close_year(before, key, previous)
    carried = {name: amount for name, amount in before.balances.items() if amount}
    opening_rows = ledger.opening_rows(current, carried, next_ids[OpeningBalance])
    next_ids[OpeningBalance] += len(opening_rows)
    rows[OpeningBalance] += opening_rows
    current.balances.update(carried)
    for month, amount in enumerate(ledger.split(book.so_far, last.month, rng), 1):
        ledger.write_month(current, key, year, month, amount, rng, last, current=month == last.month)
    if project is not None and project.paid_on.year == year:
        _pay(current, key, project)
    # In the current month: a draft, and a voucher awaiting review.
    fee = ledger.money(rng.randint(500, 3_000))
    current.voucher(key, ledger.day_in(year, last.month, rng, last), "支付村务公开栏维修费",
                    [("management", fee, 0), ("cash", 0, fee)], status="draft")
    current.voucher(key, ledger.day_in(year, last.month, rng, last), "收取集体房屋租金",
                    [("cash", fee * 2, 0), ("operating", 0, fee * 2)], status="submitted")


def _pay(book_ledger, key, project) -> None:
    """The project's construction paid from the bank: above the threshold, it cites the project's decision."""
    book_ledger.voucher(key, project.paid_on, f"支付{project.name}建设工程款",
                        [(f"fixed@{project.asset}", project.investment, 0), ("bank", 0, project.investment)],
                        decision=project.decision)


def _decisions(ctx: DemoContext, state: dict, last: datetime.date) -> Recorder:
    recorder = Recorder(ctx, state["recorders"], state["six_step"])
    for book in state["books"]:
        village = book.village.pk
        plan = state["plans"][village]
        project = next(p for p in plan.projects if p.decision is not None)
        built = project.paid_on + datetime.timedelta(days=20)
        cost = f"{project.investment:,.2f}"
        recorder.record(project.decision, village, f"{project.name}建设",
                        f"村集体投资{cost}元建设{project.name}，收益归集体。", project.investment, project.paid_on,
                        result=f"{project.name}已建成投入运营，工程款{cost}元已支付。",
                        result_on=built if built <= last else None)
        # Fewer matters in the other villages: each step through the services costs some ten milliseconds.
        letting = next(c for c in plan.contracts if c.decision is not None)
        if book.index % 3 == 0:
            recorder.record(letting.decision, village, f"{letting.title}方案",
                            f"{letting.title}：面积{letting.area}亩，期限{letting.starts_on.year}至"
                            f"{letting.ends_on.year}年，公开发包。", letting.annual, letting.signed_on,
                            result=f"已与{letting.firm[0]}签订发包合同，年承包费{letting.annual:,.2f}元。",
                            result_on=letting.signed_on + datetime.timedelta(days=10))
        if book.index % 4 == 0:  # in progress: proposed and discussed in the last days
            cost = ledger.money(200_000 + 10_000 * (book.index % 20))
            recorder.record(("road", village), village, "村道硬化提升工程", "对村内主干道进行硬化提升。", cost,
                            last + datetime.timedelta(days=25), until="discussion")
        elif book.index % 4 == 2:  # resolved and published in the last weeks, not carried out yet
            cost = ledger.money(30_000 + 2_000 * (book.index % 20))
            recorder.record(("hall", village), village, "村文化活动室改造", "改造村文化活动室，方便群众活动。", cost,
                            last - datetime.timedelta(days=8 + book.index % 20), until="publication")
    writer = state["writer"]
    for key, payments in sorted(writer.cited.items(), key=lambda item: str(item[0])):
        if key[0] != "plan":
            continue
        _kind, village, year = key
        total = sum((paid for _row, paid, _day in payments), Decimal(0))
        end = datetime.date(year + 1, 1, 15)
        recorder.record(key, village, f"{year}年度集体经营项目支出计划",
                        f"{year}年度集体经营项目成本支出计划，单笔五万元以上支出按计划执行。", total,
                        datetime.date(year - 1, 12, 31), result=f"{year}年度经营项目支出{total:,.2f}元，已执行完毕。",
                        result_on=end if end <= last else None)
    return recorder


def reset() -> None:
    """Delete every row of the app's demo models, children first, with the ledger's triggers lifted for
    that moment (they refuse deleting posted vouchers, as they should everywhere else). The four project
    categories every county has stay (they ship with the code). The audit trail keeps what was deleted."""
    uninstall(connection)
    quote = connection.ops.quote_name
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {quote(Voucher._meta.db_table)} SET reverses_id = NULL "
                           f"WHERE reverses_id IS NOT NULL")
            for model in reversed(MODELS):
                where = " WHERE county_id IS NOT NULL" if model is ProjectCategory else ""
                cursor.execute(f"DELETE FROM {quote(model._meta.db_table)}{where}")
    finally:
        install(connection)


register(seed=seed, reset=reset, models=MODELS)

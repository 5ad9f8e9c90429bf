"""The collective economy's monthly indicators: collective operating income (集体经营性收入) of the month,
of the year so far and of last year, total income, and the villages per band of this year's operating
income; the clean-up of contracts, receivables collected and debts resolved (清化收), village decisions
published, and the project library with its income from the books — with how the dashboards show them
(league columns, a breakdown chart and two panels).

The leaf queries are in ``collective_economy.selectors.income`` and ``collective_economy.selectors.registers``.
Money is kept in yuan in ``IndicatorValue.numerator`` (Decimal, to the fen); the panels show it with two
decimals.
"""

from decimal import Decimal

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from collective_economy.selectors import income, registers
from governance.indicators.registry import (
    FLOW,
    HIGHER,
    LOWER,
    RATIO,
    STOCK,
    Breakdown,
    Indicator,
    Panel,
    register,
    register_breakdown,
    register_panel,
)
from governance.models import Level

YUAN = pgettext_lazy("currency unit", "yuan")
VILLAGES = pgettext_lazy("measure word for villages", "villages")

OPERATING = "collective_economy.operating_income"
OPERATING_YTD = "collective_economy.operating_income_ytd"
OPERATING_LAST_YEAR = "collective_economy.operating_income_last_year"
TOTAL = "collective_economy.total_income"
TOTAL_YTD = "collective_economy.total_income_ytd"
TOTAL_LAST_YEAR = "collective_economy.total_income_last_year"
WEAK = "collective_economy.weak_villages"
AT_LEAST_100K = "collective_economy.villages_at_least_100k"
AT_LEAST_500K = "collective_economy.villages_at_least_500k"
BAND_PREFIX = "collective_economy.villages_band."

# Which income counts is said generally: the accounts are data (``ChartAccount.operating_income``).
OPERATING_DEFINITION = _(
    "Collective operating income: credits less debits of the posted vouchers on the accounts the chart of "
    "accounts counts as operating income (operating income, contracting and remitted income under the 2004 "
    "rules, and investment income; never subsidies or other income), leaving out the year-end carry-forward; "
    "a red-letter reversal takes its voucher back out.")

register(Indicator(
    key=OPERATING, label=_("Collective operating income"), unit=YUAN, decimals=2, leaf=income.month_income,
    numerator="operating", over=FLOW, better=HIGHER, check=income.check_flow(operating=True),
    definition=_("Collective operating income of the month: credits less debits of the posted vouchers on the "
                 "accounts the chart counts as operating income (operating income, contracting and remitted income "
                 "under the 2004 rules, and investment income), leaving out the year-end carry-forward.")))
register(Indicator(
    key=OPERATING_YTD, label=_("Collective operating income (this year so far)"), unit=YUAN, decimals=2,
    leaf=income.year_to_date, numerator="operating_ytd", over=STOCK, better=HIGHER, headline=200, league=200,
    check=income.check_year_to_date(operating=True),
    definition=_("Collective operating income (operating income, contracting and remitted income under the 2004 "
                 "rules, and investment income) from January to the end of the month, in the books of the villages "
                 "of the area.")))
register(Indicator(
    key=OPERATING_LAST_YEAR, label=_("Collective operating income (last year)"), unit=YUAN, decimals=2,
    leaf=income.last_year, numerator="operating_last", over=STOCK, better=HIGHER, league=210,
    check=income.check_last_year(operating=True),
    definition=_("Collective operating income (operating income, contracting and remitted income under the 2004 "
                 "rules, and investment income) over the whole previous calendar year, to compare with this year "
                 "so far.")))
register(Indicator(
    key=TOTAL, label=_("Total income of the collectives"), unit=YUAN, decimals=2, leaf=income.month_income,
    numerator="total", over=FLOW, check=income.check_flow(operating=False),
    definition=_("Income of the month on every income account (operating income, subsidies, other income...): "
                 "credits less debits of the posted vouchers, leaving out the year-end carry-forward.")))
register(Indicator(
    key=TOTAL_YTD, label=_("Total income of the collectives (this year so far)"), unit=YUAN, decimals=2,
    leaf=income.year_to_date, numerator="total_ytd", over=STOCK, check=income.check_year_to_date(operating=False),
    definition=_("Income on every income account from January to the end of the month, leaving out the year-end "
                 "carry-forward.")))
register(Indicator(
    key=TOTAL_LAST_YEAR, label=_("Total income of the collectives (last year)"), unit=YUAN, decimals=2,
    leaf=income.last_year, numerator="total_last", over=STOCK, check=income.check_last_year(operating=False),
    definition=_("Income on every income account over the whole previous calendar year.")))
register(Indicator(
    key=WEAK, label=_("Weak villages (operating income below 100,000 yuan)"), unit=VILLAGES,
    leaf=income.year_to_date, numerator="band_weak", denominator="villages", over=STOCK, better=LOWER, league=220,
    check=income.check_band(None, income.WEAK_BELOW),
    definition=_("Villages whose collective operating income this year so far is below 100,000.00 yuan (薄弱村), "
                 "of the villages whose books keep the year.")))
register(Indicator(
    key=AT_LEAST_100K, label=_("Villages with operating income of 100,000 yuan or more"), unit=VILLAGES,
    leaf=income.year_to_date, numerator="at_least_100k", denominator="villages", over=STOCK, better=HIGHER,
    check=income.check_band(Decimal("100000.00"), None),
    definition=_("Villages whose collective operating income this year so far is 100,000.00 yuan or more "
                 "(counted again among those of 500,000 and 1,000,000 or more, as published figures count them).")))
register(Indicator(
    key=AT_LEAST_500K, label=_("Villages with operating income of 500,000 yuan or more"), unit=VILLAGES,
    leaf=income.year_to_date, numerator="at_least_500k", denominator="villages", over=STOCK, better=HIGHER,
    check=income.check_band(Decimal("500000.00"), None),
    definition=_("Villages whose collective operating income this year so far is 500,000.00 yuan or more "
                 "(those of 1,000,000 or more among them).")))

VILLAGES_BY_BAND = register_breakdown(Breakdown(
    key="collective_economy.villages_by_band", title=_("Villages by collective operating income"),
    label_heading=_("Operating income this year so far"), value_heading=pgettext_lazy("count of villages", "Villages"),
    empty=_("Villages by operating income are not computed yet."), order=30,
    definition=_("Villages by their collective operating income this year so far, each in one band: below 100,000 "
                 "yuan (weak), 100,000 to 499,999.99, 500,000 to 999,999.99, 1,000,000 and above.")))
BAND_LABELS = {
    "band_weak": _("Below 100,000 yuan (weak)"),
    "band_100k": _("100,000 to 499,999.99 yuan"),
    "band_500k": _("500,000 to 999,999.99 yuan"),
    "band_1m": _("1,000,000 yuan and above"),
}
for _column, _low, _high in income.BANDS:
    register(Indicator(key=BAND_PREFIX + _column.removeprefix("band_"), label=BAND_LABELS[_column], unit=VILLAGES,
                       leaf=income.year_to_date, numerator=_column, over=STOCK, breakdown=VILLAGES_BY_BAND.key,
                       check=income.check_band(_low, _high)))


# --- The panel ----------------------------------------------------------------------------------

WAN = Decimal("10000")


def yuan(amount) -> str:
    """Yuan with thousands separators and two decimals: 1,234,567.80."""
    return f"{Decimal(amount):,.2f}"


def wan(amount) -> str:
    """In 万元 with two decimals: 123.46."""
    return f"{Decimal(amount) / WAN:,.2f}"


def statement_url(unit, year: int, month: int) -> str:
    """The income statement (收益及收益分配表) of the unit's books for the year up to ``month``; the path
    of the statements' contract while their page is not mounted yet."""
    try:
        path = reverse("collective_economy:income-statement")
    except NoReverseMatch:
        path = "/ledger/statements/income/"
    return f"{path}?unit={unit.pk}&year={year}&month={month}"


def _money(values, key):
    row = values.get(key)
    return row.numerator if row is not None and row.numerator is not None else None


def _count(values, key, column="numerator"):
    row = values.get(key)
    figure = getattr(row, column) if row is not None else None
    return int(figure) if figure is not None else None


def income_context(unit, period, values) -> dict:
    """The panel's figures for the unit over the period, from the values already read (no query)."""
    this_year, last_year = _money(values, OPERATING_YTD), _money(values, OPERATING_LAST_YEAR)
    change = None
    if this_year is not None and last_year:
        change = f"{(this_year - last_year) * 100 / last_year:+.1f}"
    villages = _count(values, WEAK, "denominator")
    bands = [{"key": column, "label": BAND_LABELS[column],
              "count": _count(values, BAND_PREFIX + column.removeprefix("band_")) or 0} for column, *_b in income.BANDS]
    month = period.last
    return {
        "computed": this_year is not None or last_year is not None,
        "year": month.year, "month": month.month, "last_year_number": month.year - 1,
        "this_year": this_year, "this_year_yuan": yuan(this_year) if this_year is not None else "",
        "this_year_wan": wan(this_year) if this_year is not None else "",
        "last_year": last_year, "last_year_yuan": yuan(last_year) if last_year is not None else "",
        "last_year_wan": wan(last_year) if last_year is not None else "",
        "change": change,
        "month_income": (yuan(_money(values, OPERATING)) if _money(values, OPERATING) is not None else ""),
        "is_month": period.is_month,
        "villages": villages, "bands": bands, "is_village": unit.level == Level.VILLAGE,
        "at_least_100k": _count(values, AT_LEAST_100K) or 0, "at_least_500k": _count(values, AT_LEAST_500K) or 0,
        "definition": OPERATING_DEFINITION,
        "statement_url": statement_url(unit, month.year, month.month),
    }


register_panel(Panel(key="collective-economy-income", title=_("Collective operating income"),
                     template="collective_economy/_dashboard_panel.html", context=income_context, order=30))


# --- The registers: the clean-up, decisions, projects ----------------------------------------------

CONTRACTS = pgettext_lazy("measure word for contracts", "contracts")
DECISIONS = pgettext_lazy("measure word for decisions", "decisions")
PROJECTS = pgettext_lazy("measure word for projects", "projects")

IRREGULAR = "collective_economy.contracts_irregular"
CLEANED = "collective_economy.contracts_cleaned_up"
CLEANED_SHARE = "collective_economy.contracts_cleaned_up_share"
COLLECTED = "collective_economy.receivables_collected"
COLLECTED_SHARE = "collective_economy.receivables_collected_share"
RESOLVED = "collective_economy.debts_resolved"
RESOLVED_SHARE = "collective_economy.debts_resolved_share"
PUBLISHED = "collective_economy.decisions_published"
PUBLISHED_TO_DATE = "collective_economy.decisions_published_to_date"
PROJECT_COUNT = "collective_economy.projects"
PROJECT_INCOME = "collective_economy.project_income_ytd"

register(Indicator(
    key=IRREGULAR, label=_("Irregular contracts"), unit=CONTRACTS, leaf=registers.contract_cleanup,
    numerator="irregular", over=STOCK, check=registers.check_irregular,
    definition=_("Contracts found irregular at the clean-up (不规范合同: no written contract, a price clearly too "
                 "low, a term too long, no democratic procedure, fees in arrears ...), signed by the end of the month, "
                 "whether cleaned up since or not.")))
register(Indicator(
    key=CLEANED, label=_("Irregular contracts cleaned up"), unit=CONTRACTS, leaf=registers.contract_cleanup,
    numerator="cleaned", over=STOCK, better=HIGHER, check=registers.check_cleaned,
    definition=_("Irregular contracts put right (清理规范) by the end of the month, by their clean-up date.")))
register(Indicator(
    key=CLEANED_SHARE, label=_("Share of irregular contracts cleaned up"), unit="%", kind=RATIO,
    leaf=registers.contract_cleanup, numerator="cleaned", denominator="irregular", over=STOCK, better=HIGHER,
    league=230,
    definition=_("Irregular contracts cleaned up by the end of the month, of the irregular contracts signed by then.")))
register(Indicator(
    key=COLLECTED, label=_("Receivables collected (clean-up)"), unit=YUAN, decimals=2, leaf=registers.debt_clearance,
    numerator="collected", over=STOCK, better=HIGHER, check=registers.check_settled("receivable"),
    definition=_("What was collected (收回) by the end of the month on the receivables (债权) registered at the "
                 "clean-up by then.")))
register(Indicator(
    key=COLLECTED_SHARE, label=_("Share of receivables collected"), unit="%", kind=RATIO,
    leaf=registers.debt_clearance, numerator="collected", denominator="receivable_opening", over=STOCK,
    better=HIGHER,
    definition=_("Receivables collected by the end of the month, of the opening amounts of the receivables "
                 "registered by then.")))
register(Indicator(
    key=RESOLVED, label=_("Debts resolved (clean-up)"), unit=YUAN, decimals=2, leaf=registers.debt_clearance,
    numerator="resolved", over=STOCK, better=HIGHER, check=registers.check_settled("debt"),
    definition=_("What was resolved (化解: paid, offset, settled in kind or written off with approval) by the end of "
                 "the month on the debts (债务) registered at the clean-up by then.")))
register(Indicator(
    key=RESOLVED_SHARE, label=_("Share of debts resolved"), unit="%", kind=RATIO, leaf=registers.debt_clearance,
    numerator="resolved", denominator="debt_opening", over=STOCK, better=HIGHER,
    definition=_("Debts resolved by the end of the month, of the opening amounts of the debts registered by then.")))
register(Indicator(
    key=PUBLISHED, label=_("Village decisions published"), unit=DECISIONS, leaf=registers.decisions_published,
    numerator="published", over=FLOW, check=registers.check_published,
    definition=_("Village decisions whose resolution was published (决议公开) in the month, by the date of "
                 "publication.")))
register(Indicator(
    key=PUBLISHED_TO_DATE, label=_("Village decisions published (to date)"), unit=DECISIONS,
    leaf=registers.decisions_published, numerator="published_to_date", over=STOCK, league=240,
    check=registers.check_published_to_date,
    definition=_("Village decisions whose resolution was published (决议公开) by the end of the month, since records "
                 "began.")))
register(Indicator(
    key=PROJECT_COUNT, label=_("Projects in the library"), unit=PROJECTS, leaf=registers.project_counts,
    numerator="projects", over=STOCK, check=registers.check_projects,
    definition=_("Collective-economy projects of the project library (4+N) registered by the end of the month, "
                 "counted at their lead village.")))
register(Indicator(
    key=PROJECT_INCOME, label=_("Projects' income (this year so far)"), unit=YUAN, decimals=2,
    leaf=registers.project_income, numerator="project_income", over=STOCK, better=HIGHER,
    check=registers.check_project_income,
    definition=_("The projects' income to the collective from January to the end of the month, read from the books: "
                 "credits less debits of the posted vouchers on the detail accounts the projects' income is posted "
                 "on, leaving out the year-end carry-forward.")))


def _share(values, key) -> str | None:
    """A ratio's value as a percentage with one decimal (None when it has no denominator)."""
    row = values.get(key)
    if row is None or row.value is None:
        return None
    return f"{Decimal(row.value) * 100:.1f}"


def _denominator(values, key):
    row = values.get(key)
    return row.denominator if row is not None and row.denominator is not None else None


def registers_context(unit, period, values) -> dict:
    """The registers' panel over the period, from the values already read (no query)."""
    def amount(key, column="numerator"):
        row = values.get(key)
        figure = getattr(row, column) if row is not None else None
        return yuan(figure) if figure is not None else ""

    return {
        "computed": any(key in values for key in (IRREGULAR, COLLECTED, PUBLISHED_TO_DATE, PROJECT_COUNT)),
        "irregular": _count(values, IRREGULAR) or 0, "cleaned": _count(values, CLEANED) or 0,
        "cleaned_share": _share(values, CLEANED_SHARE),
        "collected": amount(COLLECTED_SHARE), "receivable_opening": amount(COLLECTED_SHARE, "denominator"),
        "collected_share": _share(values, COLLECTED_SHARE),
        "resolved": amount(RESOLVED_SHARE), "debt_opening": amount(RESOLVED_SHARE, "denominator"),
        "resolved_share": _share(values, RESOLVED_SHARE),
        "published": _count(values, PUBLISHED) or 0, "published_to_date": _count(values, PUBLISHED_TO_DATE) or 0,
        "is_month": period.is_month,
        "projects": _count(values, PROJECT_COUNT) or 0, "project_income": amount(PROJECT_INCOME),
        "year": period.last.year,
    }


register_panel(Panel(key="collective-economy-registers", title=_("Clean-up, decisions and projects"),
                     template="collective_economy/_registers_panel.html", context=registers_context, order=31))

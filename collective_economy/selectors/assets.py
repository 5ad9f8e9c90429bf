"""The three assets (三资) of the villages under a unit: funds, assets, resources — and the projects (4+N).

Per village, and summed for a township or county:

- funds (资金): the books' cash and bank balances (the accounts whose ``role`` is cash or bank,
  whatever their codes) at the end of the year, from the opening balances and the posted lines;
- assets (资产): the registered assets not disposed of, counted and valued by kind, next to the book
  balance of the fixed-asset account (账实相符: the register and the books agree);
- resources (资源): area by kind, and the area under a contract in force (``Contract.resource``);
- projects (项目): those the village leads, their investment and the income they brought, read from
  the books, never typed: by ``selectors.projects.project_income``, which the caller hands in
  (``income_of``), the selectors sitting below the services.

Every figure is a grouped query over all the villages at once: the overview costs the same number
of queries for one village as for a county.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, DecimalField, Exists, F, OuterRef, Q, Sum, Value
from django.db.models.functions import Coalesce

from collective_economy.models import (
    AccountRole,
    Asset,
    AssetKind,
    AssetStatus,
    Contract,
    ContractStatus,
    OpeningBalance,
    Project,
    ProjectCategory,
    Resource,
    ResourceKind,
)
from collective_economy.selectors.balances import posted_lines
from collective_economy.selectors.statements import book_years_under, under
from governance.models import Level, OrgUnit

ZERO = Decimal("0.00")
FEN = Decimal("0.01")
MONEY_FIELD = DecimalField(max_digits=18, decimal_places=2)
BOOK_ROLES = (AccountRole.CASH, AccountRole.BANK, AccountRole.FIXED_ASSETS)


# --- The rows ------------------------------------------------------------------------------------


@dataclass
class KindFigure:
    """Assets of one kind (count and original value), or resources of one kind (count, area, contracted area)."""

    kind: str
    label: str
    count: int = 0
    amount: Decimal = ZERO  # an asset's value, a resource's area
    contracted: Decimal = ZERO  # resources only: the area under a contract in force

    @property
    def uncontracted(self) -> Decimal:
        return self.amount - self.contracted


@dataclass
class VillageAssets:
    """The three assets and the projects of one village (or their sums, for the totals row)."""

    village: OrgUnit
    has_books: bool = False
    cash: Decimal = ZERO
    bank: Decimal = ZERO
    fixed_assets_book: Decimal = ZERO  # the fixed-asset account's balance in the books
    assets: int = 0
    assets_value: Decimal = ZERO  # the registered assets' original value, those disposed of left out
    assets_unlinked: int = 0  # registered assets not linked to a detail account of the books
    resources: int = 0
    area: Decimal = ZERO
    contracted_area: Decimal = ZERO
    projects: int = 0
    investment: Decimal = ZERO
    project_income: Decimal = ZERO
    books: int = 0  # villages with books (the totals row counts them)

    @property
    def funds(self) -> Decimal:
        return self.cash + self.bank

    @property
    def uncontracted_area(self) -> Decimal:
        return self.area - self.contracted_area

    @property
    def book_difference(self) -> Decimal:
        """The register's value less the books' fixed assets: 0 when they agree (账实相符)."""
        return self.assets_value - self.fixed_assets_book

    @property
    def books_agree(self) -> bool | None:
        """Whether the register and the books agree; None when the village keeps no books that year."""
        if not self.has_books:
            return None
        return self.book_difference == 0


@dataclass
class AssetsOverview:
    unit: OrgUnit
    year: int | None
    rows: list[VillageAssets]
    totals: VillageAssets
    asset_kinds: list[KindFigure] = field(default_factory=list)
    resource_kinds: list[KindFigure] = field(default_factory=list)

    @property
    def is_village(self) -> bool:
        return self.unit.level == Level.VILLAGE

    @property
    def disagreeing(self) -> list[VillageAssets]:
        return [row for row in self.rows if row.books_agree is False]


# --- The grouped figures -------------------------------------------------------------------------


def book_roles(book_years) -> dict[int, dict[str, Decimal]]:
    """{village id: {role: debit-positive balance}} of the cash, bank and fixed-asset accounts of
    ``book_years`` at their end: the opening balances and the posted lines (``balances.posted_lines``),
    each grouped by village and role (two queries)."""
    found: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    opening = (OpeningBalance.objects.filter(book_year__in=book_years, account__role__in=BOOK_ROLES)
               .values("book_year__book__village", "account__role")
               .annotate(amount=Sum(F("debit") - F("credit"), output_field=MONEY_FIELD)).order_by())
    for row in opening:
        found[row["book_year__book__village"]][row["account__role"]] += row["amount"] or ZERO
    moved = (posted_lines(book_years).filter(account__role__in=BOOK_ROLES)
             .values("voucher__book__village", "account__role")
             .annotate(amount=Coalesce(Sum("debit"), Value(ZERO)) - Coalesce(Sum("credit"), Value(ZERO)))
             .order_by())
    for row in moved:
        found[row["voucher__book__village"]][row["account__role"]] += row["amount"] or ZERO
    return found


def contracted_q() -> Exists:
    """A resource under a contract in force."""
    return Exists(Contract.objects.filter(resource=OuterRef("pk"), status=ContractStatus.IN_FORCE))


def asset_figures(assets) -> dict[tuple[int, str], dict]:
    """{(village id, kind): {n, value, unlinked}} of the assets not disposed of (one query)."""
    rows = (assets.exclude(status=AssetStatus.DISPOSED).values("village", "kind")
            .annotate(n=Count("pk"), value=Coalesce(Sum("value"), Value(ZERO), output_field=MONEY_FIELD),
                      unlinked=Count("pk", filter=Q(sub_account__isnull=True))).order_by())
    return {(row["village"], row["kind"]): row for row in rows}


def resource_figures(resources) -> dict[tuple[int, str], dict]:
    """{(village id, kind): {n, area, contracted}} (one query)."""
    rows = (resources.annotate(under_contract=contracted_q()).values("village", "kind", "under_contract")
            .annotate(n=Count("pk"), area=Coalesce(Sum("area"), Value(ZERO), output_field=MONEY_FIELD)).order_by())
    found: dict[tuple[int, str], dict] = defaultdict(lambda: {"n": 0, "area": ZERO, "contracted": ZERO})
    for row in rows:
        entry = found[(row["village"], row["kind"])]
        entry["n"] += row["n"]
        entry["area"] += row["area"]
        if row["under_contract"]:
            entry["contracted"] += row["area"]
    return found


def project_figures(projects, income_of) -> dict[int, dict]:
    """{lead village id: {n, investment, income}}: two queries (the projects, their income from the books)."""
    rows = list(projects.values("pk", "village", "investment").order_by())
    income = income_of([row["pk"] for row in rows]) if rows else {}
    found: dict[int, dict] = defaultdict(lambda: {"n": 0, "investment": ZERO, "income": ZERO})
    for row in rows:
        entry = found[row["village"]]
        entry["n"] += 1
        entry["investment"] += row["investment"]
        entry["income"] += income.get(row["pk"], ZERO).quantize(FEN)
    return found


# --- The overview --------------------------------------------------------------------------------


def assets_overview(user, unit: OrgUnit, year: int | None, *, income_of) -> AssetsOverview:
    """The three assets and the projects of every village under ``unit`` the user sees, with the sums;
    ``income_of`` gives the projects' income from the books (``selectors.projects.project_income``).

    Eight queries whatever the number of villages: the villages, the villages with books that year,
    the book balances (two), the assets, the resources, the projects and their income.
    """
    villages = list(OrgUnit.objects.visible_to(user).filter(under(unit), level=Level.VILLAGE)
                    .select_related("parent").order_by("tree_id", "lft"))
    rows = {village.pk: VillageAssets(village) for village in villages}
    book_years = book_years_under(user, unit, year) if year else None
    if book_years is not None:
        for village_id in set(book_years.values_list("book__village", flat=True)):
            if village_id in rows:
                rows[village_id].has_books = True
        for village_id, roles in book_roles(book_years).items():
            row = rows.get(village_id)
            if row is None:
                continue
            row.cash = roles.get(AccountRole.CASH, ZERO).quantize(FEN)
            row.bank = roles.get(AccountRole.BANK, ZERO).quantize(FEN)
            row.fixed_assets_book = roles.get(AccountRole.FIXED_ASSETS, ZERO).quantize(FEN)

    asset_kinds = {kind: KindFigure(kind, str(label)) for kind, label in AssetKind.choices}
    assets = Asset.objects.visible_to(user).filter(under(unit, "village"))
    for (village_id, kind), figures in asset_figures(assets).items():
        row = rows.get(village_id)
        if row is None:
            continue
        row.assets += figures["n"]
        row.assets_value += figures["value"]
        row.assets_unlinked += figures["unlinked"]
        asset_kinds[kind].count += figures["n"]
        asset_kinds[kind].amount += figures["value"]

    resource_kinds = {kind: KindFigure(kind, str(label)) for kind, label in ResourceKind.choices}
    resources = Resource.objects.visible_to(user).filter(under(unit, "village"))
    for (village_id, kind), figures in resource_figures(resources).items():
        row = rows.get(village_id)
        if row is None:
            continue
        row.resources += figures["n"]
        row.area += figures["area"]
        row.contracted_area += figures["contracted"]
        resource_kinds[kind].count += figures["n"]
        resource_kinds[kind].amount += figures["area"]
        resource_kinds[kind].contracted += figures["contracted"]

    projects = Project.objects.visible_to(user).filter(under(unit, "village"))
    for village_id, figures in project_figures(projects, income_of).items():
        row = rows.get(village_id)
        if row is None:
            continue
        row.projects, row.investment, row.project_income = figures["n"], figures["investment"], figures["income"]

    totals = VillageAssets(unit)
    for row in rows.values():
        for name in ("cash", "bank", "fixed_assets_book", "assets", "assets_value", "assets_unlinked", "resources",
                     "area", "contracted_area", "projects", "investment", "project_income"):
            setattr(totals, name, getattr(totals, name) + getattr(row, name))
        totals.books += int(row.has_books)
    totals.has_books = totals.books > 0
    return AssetsOverview(unit, year, list(rows.values()), totals, list(asset_kinds.values()),
                          list(resource_kinds.values()))


# --- Lists ---------------------------------------------------------------------------------------


def categories_visible(user):
    """The project categories a user reads: the four shipped ones and his county's own (every one for the
    system operator). A category's scope is its county, which lies above a township's subtree: the scope
    rule alone would hide a county's categories from its own townships."""
    home = getattr(user, "home_unit", None)
    if home is None:
        return ProjectCategory.objects.all() if user.is_superuser else ProjectCategory.objects.filter(
            county__isnull=True)
    counties = OrgUnit.objects.filter(tree_id=home.tree_id, lft__lte=home.lft, rght__gte=home.rght,
                                      level=Level.COUNTY).values("pk")
    return ProjectCategory.objects.filter(Q(county__isnull=True) | Q(county__in=counties))


def with_income(projects, income_of) -> list:
    """The projects (a page of them) with ``income``: what their income accounts hold in the books, by
    ``income_of`` (``selectors.projects.project_income``: one query)."""
    projects = list(projects)
    income = income_of([p.pk for p in projects]) if projects else {}
    for project in projects:
        project.income = income.get(project.pk, ZERO).quantize(FEN)
    return projects


__all__ = ["AssetsOverview", "KindFigure", "VillageAssets", "assets_overview", "categories_visible",
           "contracted_q", "with_income"]

"""The registers around the books: contracts and their payments, receivables and debts (清化收), assets and
resources (三资), and the project library (4+N).

Every write goes through these services: they check what the model cannot (a resource of
another village, a payment above what is still due, a voucher not posted or of another
book) and save in one transaction. An overdue contract payment opens one case in the closed
loop (``instalment_case_open``) through grid's services, so it is chased like any other matter.
"""

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from collective_economy.models import (
    AccountRole,
    Asset,
    Contract,
    ContractInstalment,
    ContractPayment,
    CounterpartyKind,
    DebtRecord,
    DebtSettlement,
    Project,
    ProjectCategory,
    Resource,
    Voucher,
    VoucherStatus,
)
from collective_economy.services.common import invalid, money
from governance.models import Level, OrgUnit

ZERO = Decimal("0.00")
NOT_A_VILLAGE = _("Choose a village or community.")
OTHER_VILLAGE = _("%(what)s is of another village.")
FIRM_NEEDS_NAME = _("Enter the firm's name.")
FIRM_NO_RESIDENT = _("A firm is not a resident: leave the resident empty.")
PERSON_NEEDS_RESIDENT = _("Choose the resident (a private person is referred to, never typed by name).")
PERSON_NO_FIRM = _("A private person has no firm name or credit code.")
CLEANUP_ONLY_IRREGULAR = _("Only an irregular contract has a problem or a clean-up date.")
PAYMENT_ABOVE_DUE = _("%(amount)s yuan is more than is still due on %(due_on)s (%(left)s yuan).")
VOUCHER_NOT_POSTED = _("Voucher %(voucher)s is not posted: a payment is linked to the voucher that posted it.")
SETTLE_ABOVE = _("%(amount)s yuan is more than is still outstanding (%(left)s yuan).")
NOT_OVERDUE = _("This payment is not overdue: due on %(due_on)s, %(left)s yuan outstanding.")
NO_GRID = _("%(village)s has no grid: a case is filed in a grid.")
NOT_FIXED_ASSETS = _("Choose a detail account of the fixed assets (固定资产).")
CATEGORY_OTHER_COUNTY = _("This category is another county's.")
INCOME_ACCOUNT_ELSEWHERE = _("Detail account %(account)s is not in the books of a village involved.")
SCHEDULE_PAID = _("The payment due on %(due_on)s has payments received: it stays in the schedule.")
SCHEDULE_DUPLICATE = _("Two payments are scheduled on %(due_on)s.")
ARREARS_CATEGORY = "dispute-collective-arrears"


def _village(unit: OrgUnit) -> OrgUnit:
    if unit is None or unit.level != Level.VILLAGE:
        raise invalid("village", NOT_A_VILLAGE)
    return unit


def _same_village(obj, village: OrgUnit, field: str, what) -> None:
    if obj is not None and obj.village_id != village.pk:
        raise invalid(field, OTHER_VILLAGE, what=str(what))


def counterparty_check(obj) -> None:
    """A firm by name (and credit code), or a resident by reference: never both, never a typed person's name."""
    if obj.counterparty_kind == CounterpartyKind.FIRM:
        obj.counterparty_name = (obj.counterparty_name or "").strip()
        if not obj.counterparty_name:
            raise invalid("counterparty_name", FIRM_NEEDS_NAME)
        if obj.counterparty_resident_id:
            raise invalid("counterparty_resident", FIRM_NO_RESIDENT)
    else:
        if not obj.counterparty_resident_id:
            raise invalid("counterparty_resident", PERSON_NEEDS_RESIDENT)
        if (obj.counterparty_name or "").strip() or (obj.counterparty_credit_code or "").strip():
            raise invalid("counterparty_name", PERSON_NO_FIRM)
        resident_village = obj.counterparty_resident.household.grid.get_ancestors().filter(
            level=Level.VILLAGE).first()
        if resident_village is not None and resident_village.pk != obj.village_id:
            raise invalid("counterparty_resident", OTHER_VILLAGE, what=obj.counterparty_resident.household)


def _save(obj, fields: dict, exclude=()):
    for name, value in fields.items():
        setattr(obj, name, value)
    obj.full_clean(exclude=list(exclude))
    obj.save()
    return obj


# --- Contracts ---------------------------------------------------------------------------------


@transaction.atomic
def contract_save(*, user, contract: Contract | None = None, **fields) -> Contract:
    """Create or change a contract; its counterparty, subject and decision belong to its village."""
    contract = contract or Contract()
    for name, value in fields.items():
        setattr(contract, name, value)
    village = _village(contract.village if contract.village_id else None)
    counterparty_check(contract)
    _same_village(contract.resource, village, "resource", _("The resource"))
    _same_village(contract.asset, village, "asset", _("The asset"))
    _same_village(contract.decision, village, "decision", _("The decision"))
    if contract.is_regular and (contract.problem or contract.cleaned_up_on):
        raise invalid("problem", CLEANUP_ONLY_IRREGULAR)
    contract.full_clean()
    contract.save()
    return contract


@transaction.atomic
def instalments_set(*, contract: Contract, schedule: list[tuple[datetime.date, Decimal | str]]) -> None:
    """Replace the contract's payment schedule; a scheduled payment with payments received stays."""
    contract = Contract.objects.select_for_update().get(pk=contract.pk)
    wanted = {}
    for due_on, amount in schedule:
        if due_on in wanted:
            raise invalid("schedule", SCHEDULE_DUPLICATE, due_on=due_on.isoformat())
        wanted[due_on] = money(amount)
    existing = {i.due_on: i for i in contract.instalments.all()}
    for due_on, instalment in existing.items():
        if due_on not in wanted:
            if instalment.payments.exists() or instalment.case_id:
                raise invalid("schedule", SCHEDULE_PAID, due_on=due_on.isoformat())
            instalment.delete()
    for due_on, amount in wanted.items():
        instalment = existing.get(due_on) or ContractInstalment(contract=contract, due_on=due_on)
        _save(instalment, {"amount": amount})


def _received(instalment: ContractInstalment) -> Decimal:
    return instalment.payments.aggregate(total=Sum("amount"))["total"] or ZERO


def _voucher_check(voucher: Voucher | None, village: OrgUnit) -> None:
    if voucher is None:
        return
    if voucher.book.village_id != village.pk:
        raise invalid("voucher", OTHER_VILLAGE, what=voucher)
    if voucher.status != VoucherStatus.POSTED:
        raise invalid("voucher", VOUCHER_NOT_POSTED, voucher=voucher.display_number)


@transaction.atomic
def contract_payment_record(*, instalment: ContractInstalment, received_on: datetime.date, amount, user,
                            voucher: Voucher | None = None) -> ContractPayment:
    """A payment received against a scheduled payment, linked to the voucher that posted it."""
    instalment = ContractInstalment.objects.select_for_update().select_related("contract").get(pk=instalment.pk)
    amount = money(amount)
    left = instalment.amount - _received(instalment)
    if amount > left:
        raise invalid("amount", PAYMENT_ABOVE_DUE, amount=f"{amount:,.2f}", due_on=instalment.due_on.isoformat(),
                      left=f"{left:,.2f}")
    _voucher_check(voucher, instalment.contract.village)
    payment = ContractPayment(contract=instalment.contract, instalment=instalment, received_on=received_on,
                              amount=amount, voucher=voucher, recorded_by=user)
    payment.full_clean()
    payment.save()
    return payment


@transaction.atomic
def instalment_case_open(*, instalment: ContractInstalment, user, today: datetime.date | None = None):
    """Open a case to chase an overdue payment — once: asked again, it returns the case already open."""
    from grid.models import CaseCategory, CaseSource
    from grid.services.cases import case_create

    instalment = (ContractInstalment.objects.select_for_update()
                  .select_related("contract__village").get(pk=instalment.pk))
    if instalment.case_id is not None:
        return instalment.case
    contract = instalment.contract
    today = today or timezone.localdate()
    left = instalment.amount - _received(instalment)
    if instalment.due_on >= today or left <= 0 or contract.status != "in_force":
        raise ValidationError(NOT_OVERDUE, params={"due_on": instalment.due_on.isoformat(), "left": f"{left:,.2f}"})
    village = contract.village
    grid = (OrgUnit.objects.filter(tree_id=village.tree_id, lft__gt=village.lft, rght__lt=village.rght,
                                   level=Level.GRID, is_active=True).order_by("lft").first())
    if grid is None:
        raise ValidationError(NO_GRID, params={"village": village.display_name})
    category = CaseCategory.objects.filter(code=ARREARS_CATEGORY).first() or CaseCategory.objects.get(
        code="dispute-other")
    title = gettext("Overdue contract payment: %(contract)s") % {"contract": contract.title}
    description = gettext(
        "Contract %(number)s “%(title)s” (%(counterparty)s): %(left)s yuan of the payment due on %(due_on)s is "
        "outstanding. Chase the payment and record it in the ledger.") % {
        "number": contract.number, "title": contract.title, "counterparty": contract.counterparty_public,
        "left": f"{left:,.2f}", "due_on": instalment.due_on.isoformat()}
    case = case_create(user=user, title=title[:200], description=description, category=category,
                       source=CaseSource.OTHER, grid=grid, address=contract.location[:200])
    instalment.case = case
    instalment.save(update_fields=["case"])
    return case


# --- Receivables and debts ---------------------------------------------------------------------


@transaction.atomic
def debt_record_save(*, user, record: DebtRecord | None = None, **fields) -> DebtRecord:
    record = record or DebtRecord()
    for name, value in fields.items():
        setattr(record, name, value)
    village = _village(record.village if record.village_id else None)
    counterparty_check(record)
    _same_village(record.contract, village, "contract", _("The contract"))
    record.full_clean()
    record.save()
    return record


def debt_outstanding(record: DebtRecord) -> Decimal:
    return record.opening_amount - (record.settlements.aggregate(total=Sum("amount"))["total"] or ZERO)


@transaction.atomic
def debt_settle(*, record: DebtRecord, settled_on: datetime.date, amount, way: str, user,
                voucher: Voucher | None = None) -> DebtSettlement:
    """Collect (收回) part of a receivable or resolve (化解) part of a debt; never more than is outstanding."""
    record = DebtRecord.objects.select_for_update().select_related("village").get(pk=record.pk)
    amount = money(amount)
    left = debt_outstanding(record)
    if amount > left:
        raise invalid("amount", SETTLE_ABOVE, amount=f"{amount:,.2f}", left=f"{left:,.2f}")
    _voucher_check(voucher, record.village)
    settlement = DebtSettlement(record=record, settled_on=settled_on, amount=amount, way=way, voucher=voucher,
                                recorded_by=user)
    settlement.full_clean()
    settlement.save()
    return settlement


# --- Assets, resources, projects ---------------------------------------------------------------


@transaction.atomic
def asset_save(*, user, asset: Asset | None = None, **fields) -> Asset:
    asset = asset or Asset()
    for name, value in fields.items():
        setattr(asset, name, value)
    village = _village(asset.village if asset.village_id else None)
    if asset.sub_account is not None:
        if asset.sub_account.book.village_id != village.pk:
            raise invalid("sub_account", OTHER_VILLAGE, what=asset.sub_account)
        if asset.sub_account.account.role != AccountRole.FIXED_ASSETS:
            raise invalid("sub_account", NOT_FIXED_ASSETS)
    asset.full_clean()
    asset.save()
    return asset


@transaction.atomic
def resource_save(*, user, resource: Resource | None = None, **fields) -> Resource:
    resource = resource or Resource()
    for name, value in fields.items():
        setattr(resource, name, value)
    _village(resource.village if resource.village_id else None)
    resource.full_clean()
    resource.save()
    return resource


def categories_for(unit: OrgUnit):
    """The project categories a unit may use: the four shipped ones and its county's own."""
    from django.db.models import Q

    from collective_economy.services.decisions import county_of

    county = county_of(unit) if unit is not None else None
    return ProjectCategory.objects.filter(Q(county__isnull=True) | Q(county=county), is_active=True)


# The four categories every county has (migration 0006 loads them; a test's flush or a demo reset may not).
SHIPPED_CATEGORIES = [("suburban-services", "城郊服务"), ("ecological-economy", "生态经济"),
                      ("specialty-agriculture", "特优农业"), ("culture-tourism-health", "文旅康养")]


def project_categories_load_shipped() -> None:
    """The four shipped categories, created where missing (idempotent)."""
    for order, (code, name) in enumerate(SHIPPED_CATEGORIES, start=1):
        ProjectCategory.objects.get_or_create(code=code, defaults={"name": name, "sort_order": order})


CATEGORY_NAME_TAKEN = _("There is already a category “%(name)s”.")
CATEGORY_CODE_TAKEN = _("The code %(code)s is taken.")
CATEGORY_SHIPPED = _("The four categories every county has are not changed here.")


@transaction.atomic
def project_category_save(*, county: OrgUnit, user, category: ProjectCategory | None = None, name: str,
                          code: str = "", sort_order: int | None = None, is_active: bool = True) -> ProjectCategory:
    """A county's own project category (the "+N" of 4+N): its name unique among the county's and the four
    shipped ones, its code made from the county's when left blank."""
    if category is not None and category.county_id is None:
        raise ValidationError(CATEGORY_SHIPPED)
    name = (name or "").strip()
    same = ProjectCategory.objects.filter(Q(county=county) | Q(county__isnull=True), name=name)
    if category is not None:
        same = same.exclude(pk=category.pk)
    if same.exists():
        raise invalid("name", CATEGORY_NAME_TAKEN, name=name)
    code = (code or "").strip() or (category.code if category is not None else "")
    if code:
        if ProjectCategory.objects.filter(code=code).exclude(pk=getattr(category, "pk", None)).exists():
            raise invalid("code", CATEGORY_CODE_TAKEN, code=code)
    else:
        taken = set(ProjectCategory.objects.filter(code__startswith=f"{county.code}-").values_list("code", flat=True))
        number = len(taken) + 1
        while f"{county.code}-{number}" in taken:
            number += 1
        code = f"{county.code}-{number}"
    category = category or ProjectCategory(county=county)
    if sort_order is None:
        sort_order = category.sort_order if category.pk else 10 + ProjectCategory.objects.filter(county=county).count()
    category.name, category.code, category.sort_order, category.is_active = name, code, sort_order, is_active
    category.full_clean()
    category.save()
    return category


@transaction.atomic
def project_save(*, user, project: Project | None = None, villages=(), income_accounts=(), **fields) -> Project:
    """Create or change a project; the lead village always takes part, income accounts are the villages' own."""
    project = project or Project(created_by=user)
    for name, value in fields.items():
        setattr(project, name, value)
    village = _village(project.village if project.village_id else None)
    if project.category_id and not categories_for(village).filter(pk=project.category_id).exists():
        raise invalid("category", CATEGORY_OTHER_COUNTY)
    _same_village(project.decision, village, "decision", _("The decision"))
    involved = {village.pk, *(v.pk for v in villages)}
    for unit in villages:
        _village(unit)
    for account in income_accounts:
        if account.book.village_id not in involved:
            raise invalid("income_accounts", INCOME_ACCOUNT_ELSEWHERE, account=account)
    project.full_clean()
    project.save()
    project.villages.set(involved)
    project.income_accounts.set(income_accounts)
    return project


__all__ = [
    "asset_save", "categories_for", "contract_payment_record", "contract_save", "counterparty_check",
    "debt_outstanding", "debt_record_save", "debt_settle", "instalment_case_open", "instalments_set",
    "project_categories_load_shipped", "project_category_save",
    "project_save", "resource_save",
]

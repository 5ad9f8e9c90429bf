"""The registers' rosters (清化收 and 三资): contracts, their payment schedule, receivables and debts, assets and
resources — imported from Excel all or nothing, exported with the same columns (an export imports again).

Each row is a model row, matched by its village's code and its number (a receivable or debt also by its
kind; a scheduled payment by its contract and due date), so a file imported twice changes nothing. The rules
of ``collective_economy.services.registers`` are checked again here in bulk, with the services' messages,
because the rows are written in bulk (one query per table the file names, whatever its length):

- a counterparty is a firm (its name, and its credit code if it has one) or a private person named by his ID
  number, looked up among the residents the importer may see and stored as a reference, never as text;
  the resident lives in the contract's village (``counterparty_check``);
- a resource, an asset, a contract or a fixed-asset detail account a row names is looked up by its number
  within the row's village (a number of another village is "not found");
- only an irregular contract has a problem or a clean-up date; a term does not end before it starts; an
  opening amount, a scheduled amount and a resource's area are above zero.

The schedule is a roster of its own (``contract_instalments``, one row per payment due) rather than columns
of the contracts roster: a contract has any number of payments, a row each keeps the file's shape fixed, and
each payment is matched by its due date, so a re-import changes an amount without touching the payments
received against the others. A payment due is never removed by an import (it may have payments received or
a case chasing it); its amount never drops below what was received against it.

A private counterparty's ID number and name are personal data: masked in an export for a user whose role may
not see them, and every export is recorded in ``ExportLog`` (``governance.rosters.roster_export``).
"""

from collections import defaultdict
from decimal import Decimal

from django.db.models import Sum
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from collective_economy.models import (
    AccountRole,
    Asset,
    AssetKind,
    AssetStatus,
    Contract,
    ContractInstalment,
    ContractKind,
    ContractPayment,
    ContractStatus,
    CounterpartyKind,
    DebtKind,
    DebtRecord,
    ProblemType,
    Resource,
    ResourceKind,
    SubAccount,
    SubjectKind,
)
from collective_economy.rosters.common import Money
from collective_economy.services.registers import (
    CLEANUP_ONLY_IRREGULAR,
    FIRM_NEEDS_NAME,
    FIRM_NO_RESIDENT,
    NOT_FIXED_ASSETS,
    OTHER_VILLAGE,
    PERSON_NEEDS_RESIDENT,
    PERSON_NO_FIRM,
)
from governance.models import Level, OrgUnit, Resident
from governance.rosters import (
    PERSONAL_ID,
    Bool,
    ChildEntries,
    Choice,
    Column,
    Date,
    Number,
    Ref,
    RosterSpec,
    Text,
    chunked,
    register,
)

ZERO = Decimal("0.00")
# A private person's name: blank in the export of a user who may not see personal data.
PERSONAL_NAME = "name"

NOT_IN_VILLAGE = _('%(what)s "%(value)s" was not found in %(village)s.')
MANY_IN_VILLAGE = _('"%(value)s" names more than one %(what)s in %(village)s.')
TERM_BACKWARDS = _("The term ends before it starts.")
AMOUNT_ABOVE_ZERO = _("Enter an amount above 0.00.")
AREA_ABOVE_ZERO = _("Enter an area above 0.")
RECEIVED_ABOVE = _("%(received)s yuan is already received against this payment: its amount cannot be less.")


# --- What the rosters share ---------------------------------------------------------------------


def village_column(example="513424102201") -> Column:
    return Column("village", _("Village code"), Ref(OrgUnit, "code", _("village"), filter={"level": Level.VILLAGE},
                                                    description=_("The code of the village or community")),
                  required=True, example=example, width=16)


def village_name_column(path="village__name") -> Column:
    return Column("village_name", _("Village"), export=path, width=16)


def counterparty_columns() -> list[Column]:
    return [
        Column("counterparty_kind", _("Counterparty type"), Choice(CounterpartyKind), width=12,
               example=CounterpartyKind.FIRM.label,
               note=_("Left empty: a private person when an ID number is given, else a firm.")),
        Column("counterparty_name", _("Counterparty (firm)"), Text(), width=24, example=_("Dechang Fruit Co., Ltd."),
               note=_("A firm's or organisation's name; empty for a private person.")),
        Column("counterparty_credit_code", _("Credit code"), Text(upper=True), width=20,
               note=_("The firm's unified social credit code (18 characters), if it has one.")),
        Column("counterparty_id_number", _("Counterparty's ID number"),
               Ref(Resident, "id_number", _("resident"), upper=True, select_related=("household__grid",),
                   description=_("The ID number of a resident of the village (the register refers to him; his "
                                 "name is never typed)")),
               field="counterparty_resident", personal=PERSONAL_ID, width=22,
               note=_("Only for a private person: a resident of the village in the resident roster.")),
        Column("counterparty_resident_name", _("Counterparty (private person)"), export="counterparty_resident__name",
               personal=PERSONAL_NAME, width=12),
    ]


def _cell(job, row, name):
    """The row's value of column ``name`` when the file has it and it was read well, else None."""
    if not job.has(name) or not job.cells_ok(row, name):
        return None
    return row.values.get(name)


def _prepare_counterparty(row, kwargs, job) -> None:
    """An empty counterparty type follows from the row: a private person when an ID number is given."""
    if job.has("counterparty_kind") and row.values.get("counterparty_kind"):
        return
    if job.has("counterparty_id_number") or job.has("counterparty_name"):
        resident = row.values.get("counterparty_id_number") if job.has("counterparty_id_number") else None
        kwargs["counterparty_kind"] = CounterpartyKind.RESIDENT if resident is not None else CounterpartyKind.FIRM


def _check_counterparty(row, instance, job) -> None:
    """``services.registers.counterparty_check`` without a query: the resident's grid is already loaded."""
    header = job.header_of
    if instance.counterparty_kind == CounterpartyKind.FIRM:
        instance.counterparty_name = (instance.counterparty_name or "").strip()
        if not instance.counterparty_name:
            job.error(row, header("counterparty_name"), str(FIRM_NEEDS_NAME))
        if instance.counterparty_resident_id:
            job.error(row, header("counterparty_id_number"), str(FIRM_NO_RESIDENT))
        return
    resident = instance.counterparty_resident if instance.counterparty_resident_id else None
    if resident is None:
        job.error(row, header("counterparty_id_number"), str(PERSON_NEEDS_RESIDENT))
    if (instance.counterparty_name or "").strip() or (instance.counterparty_credit_code or "").strip():
        job.error(row, header("counterparty_name" if (instance.counterparty_name or "").strip()
                              else "counterparty_credit_code"), str(PERSON_NO_FIRM))
    if resident is not None and not _inside(resident.household.grid, instance.village):
        job.error(row, header("counterparty_id_number"), str(OTHER_VILLAGE) % {"what": resident.household})


def _inside(unit: OrgUnit, village: OrgUnit) -> bool:
    return unit.tree_id == village.tree_id and village.lft <= unit.lft <= village.rght


def _village_of(row):
    village = row.values.get("village")
    return village if isinstance(village, OrgUnit) else None


def _by_village(job, column: str, model, *, code: str, village: str, select_related=()) -> dict:
    """{(village id, number): [rows]} of ``model`` for the numbers of ``column`` in the file, within the rows'
    villages and the importer's scope: one query per chunk of numbers, read once per import."""
    found = job.context.get(column)
    if found is not None:
        return found
    found = job.context[column] = defaultdict(list)
    codes = sorted({row.values[column] for row in job.rows if _cell(job, row, column)})
    villages = sorted({_village_of(row).pk for row in job.rows if _village_of(row) is not None})
    if not codes or not villages:
        return found
    queryset = model._default_manager.all()
    if job.user is not None:
        queryset = queryset.visible_to(job.user)
    queryset = queryset.filter(**{f"{village}__in": villages}).select_related(*select_related)
    attname = village.replace("__", ".")
    for chunk in chunked(codes):
        for obj in queryset.filter(**{f"{code}__in": chunk}):
            owner = obj
            for part in attname.split("."):
                owner = getattr(owner, part)
            found[(owner, getattr(obj, code))].append(obj)
    return found


def _pick(job, row, column: str, what, found: dict, field: str, kwargs: dict) -> None:
    """Set ``kwargs[field]`` to the one row of ``found`` the cell names in the row's village (or an error)."""
    if not job.has(column):
        return
    kwargs.pop(f"{field}_id", None)
    value, village = row.values.get(column), _village_of(row)
    if not value or village is None:
        kwargs[field] = None
        return
    candidates = found.get((village.pk, value), [])
    if len(candidates) == 1:
        kwargs[field] = candidates[0]
        return
    if candidates:
        message = str(MANY_IN_VILLAGE) % {"what": what, "value": value, "village": village.display_name}
    else:
        message = str(NOT_IN_VILLAGE) % {"what": capfirst(str(what)), "value": value, "village": village.display_name}
    job.error(row, job.header_of(column), message)
    kwargs[field] = None


# --- Contracts ----------------------------------------------------------------------------------

# No problem is an empty cell (its label "—" is for the pages), in the file as in the export.
PROBLEMS = Choice(ProblemType, allowed=[value for value in ProblemType.values if value])


class ContractRoster(RosterSpec):
    """Contracts (经济合同), one row each, matched by village code and contract number."""

    kind = "contracts"
    label = _("Contracts")
    model = Contract
    key = ("village", "number")
    key_paths = ("village__code", "number")
    name_column = "title"
    export_order = ("village__tree_id", "village__lft", "number")
    derived_fields = ("counterparty_kind", "resource", "asset")
    matching_note = _("Rows are matched by %(key)s: a contract already in the system is updated, never duplicated.")
    columns = [
        village_column(),
        village_name_column(),
        Column("number", _("Contract number"), Text(), required=True, example="HT2025-001", width=14),
        Column("title", _("Contract title"), Text(), required=True, example=_("Letting of the river flats"), width=24),
        Column("kind", _("Contract type"), Choice(ContractKind), required=True, example=ContractKind.LETTING.label,
               width=12),
        *counterparty_columns(),
        Column("subject_kind", _("Subject"), Choice(SubjectKind), required=True, example=SubjectKind.LAND.label,
               width=10),
        Column("subject", _("Subject description"), Text(), width=24),
        Column("area", _("Area (mu)"), Number(), width=10, example="35.5"),
        Column("location", _("Location"), Text(), width=20),
        Column("resource", _("Resource number"), Text(), field=None, export="resource__code", width=12,
               note=_("The number of the village's resource let out (resource roster), if any.")),
        Column("asset", _("Asset number"), Text(), field=None, export="asset__code", width=12,
               note=_("The number of the village's asset let out (asset roster), if any.")),
        Column("amount", _("Contract amount (yuan)"), Money(), required=True, example="120000.00", width=14),
        Column("signed_on", _("Signed on"), Date(), required=True, example="2024-12-20", width=12),
        Column("starts_on", _("Term starts"), Date(), required=True, example="2025-01-01", width=12),
        Column("ends_on", _("Term ends"), Date(), required=True, example="2029-12-31", width=12),
        Column("status", _("Status"), Choice(ContractStatus, default=ContractStatus.IN_FORCE), width=10,
               note=_("Empty: in force.")),
        Column("is_regular", _("Regular"), Bool(default=True), width=8,
               note=_("否 for a contract found irregular at the clean-up; empty: regular.")),
        Column("problem", _("Problem type"), PROBLEMS, display=PROBLEMS.display, width=20,
               note=_("Only for an irregular contract.")),
        Column("cleaned_up_on", _("Cleaned up on"), Date(), width=12,
               note=_("When an irregular contract was put right.")),
        Column("arrears", _("Arrears (yuan)"), Money(), width=12,
               note=_("Fees in arrears found at the clean-up.")),
    ]

    def prepare(self, row, kwargs, job):
        _prepare_counterparty(row, kwargs, job)
        resources = _by_village(job, "resource", Resource, code="code", village="village_id")
        _pick(job, row, "resource", _("resource"), resources, "resource", kwargs)
        assets = _by_village(job, "asset", Asset, code="code", village="village_id")
        _pick(job, row, "asset", _("asset"), assets, "asset", kwargs)

    def validate(self, row, instance, job):
        _check_counterparty(row, instance, job)
        header = job.header_of
        if instance.is_regular and (instance.problem or instance.cleaned_up_on):
            job.error(row, header("problem" if instance.problem else "cleaned_up_on"), str(CLEANUP_ONLY_IRREGULAR))
        if instance.ends_on < instance.starts_on:
            job.error(row, header("ends_on"), str(TERM_BACKWARDS))
        if instance.area is not None and instance.area <= 0:
            job.error(row, header("area"), str(AREA_ABOVE_ZERO))


# --- The payment schedule -----------------------------------------------------------------------


class InstalmentRoster(RosterSpec):
    """Payments due under contracts (应收计划), one row each, matched by village code, contract number and date."""

    kind = "contract_instalments"
    label = _("Contract payments due")
    model = ContractInstalment
    key = ("village", "contract", "due_on")
    key_paths = ("contract__village__code", "contract__number", "due_on")
    name_column = "contract"
    export_order = ("contract__village__tree_id", "contract__village__lft", "contract__number", "due_on")
    derived_fields = ("contract",)
    matching_note = _("Rows are matched by %(key)s: a payment already scheduled is updated, never duplicated; "
                      "a payment due is never removed by an import.")
    columns = [
        Column("village", _("Village code"), Text(), required=True, field=None, export="contract__village__code",
               example="513424102201", width=16),
        village_name_column("contract__village__name"),
        Column("contract", _("Contract number"), Text(), required=True, field=None, export="contract__number",
               example="HT2025-001", width=14),
        Column("contract_title", _("Contract"), export="contract__title", width=24),
        Column("due_on", _("Due on"), Date(), required=True, example="2025-12-31", width=12),
        Column("amount", _("Amount due (yuan)"), Money(), required=True, example="30000.00", width=14),
    ]

    def prepare(self, row, kwargs, job):
        found = job.context.get("contracts")
        if found is None:
            found = job.context["contracts"] = defaultdict(list)
            numbers = sorted({row.values["contract"] for row in job.rows if _cell(job, row, "contract")})
            codes = sorted({row.values["village"] for row in job.rows if _cell(job, row, "village")})
            queryset = Contract.objects.all() if job.user is None else Contract.objects.visible_to(job.user)
            for chunk in chunked(numbers):
                for contract in queryset.filter(number__in=chunk, village__code__in=codes).select_related("village"):
                    found[(contract.village.code, contract.number)].append(contract)
        kwargs.pop("contract_id", None)
        village, number = row.values.get("village"), row.values.get("contract")
        candidates = found.get((village, number), [])
        if len(candidates) != 1:
            job.error(row, job.header_of("contract"), str(NOT_IN_VILLAGE) % {
                "what": gettext("Contract"), "value": number, "village": village})
            return
        kwargs["contract"] = candidates[0]

    def validate(self, row, instance, job):
        if instance.amount <= 0:
            job.error(row, job.header_of("amount"), str(AMOUNT_ABOVE_ZERO))

    def check(self, job):
        """A payment's amount never drops below what was received against it (one query)."""
        lowered = {row.existing["id"]: row for row in job.rows
                   if row.instance is not None and not row.failed and row.existing
                   and row.instance.amount < row.existing["amount"]}
        if not lowered:
            return
        for chunk in chunked(sorted(lowered)):
            received = (ContractPayment.objects.filter(instalment_id__in=chunk).values("instalment")
                        .annotate(total=Sum("amount")).order_by())
            for entry in received:
                row = lowered[entry["instalment"]]
                if entry["total"] > row.instance.amount:
                    job.error(row, job.header_of("amount"),
                              str(RECEIVED_ABOVE) % {"received": f"{entry['total']:,.2f}"})


# --- Receivables and debts ----------------------------------------------------------------------


class DebtRecordRoster(RosterSpec):
    """Receivables (债权) and debts (债务), one row each, matched by village code, kind and number."""

    kind = "debt_records"
    label = _("Receivables and debts")
    model = DebtRecord
    key = ("village", "kind", "number")
    key_paths = ("village__code", "kind", "number")
    name_column = "number"
    export_order = ("village__tree_id", "village__lft", "kind", "number")
    derived_fields = ("counterparty_kind", "contract")
    matching_note = _("Rows are matched by %(key)s: a record already in the system is updated, never duplicated.")
    columns = [
        village_column(),
        village_name_column(),
        Column("kind", _("Receivable or debt"), Choice(DebtKind), required=True, example=DebtKind.RECEIVABLE.label,
               width=12),
        Column("number", _("Record number"), Text(), required=True, example="ZQ-001", width=12),
        *counterparty_columns(),
        Column("origin", _("Origin"), Text(), required=True, example=_("Contract fees unpaid since 2021"), width=28),
        Column("arisen_on", _("Arisen on"), Date(), width=12),
        Column("opening_amount", _("Opening amount (yuan)"), Money(), required=True, example="45000.00", width=14,
               note=_("The amount registered when the clean-up started.")),
        Column("registered_on", _("Registered on"), Date(), required=True, example="2024-03-31", width=12),
        Column("contract", _("Contract number"), Text(), field=None, export="contract__number", width=14,
               note=_("The village's contract it arose from, if any.")),
    ]

    def prepare(self, row, kwargs, job):
        _prepare_counterparty(row, kwargs, job)
        contracts = _by_village(job, "contract", Contract, code="number", village="village_id")
        _pick(job, row, "contract", _("contract"), contracts, "contract", kwargs)

    def validate(self, row, instance, job):
        _check_counterparty(row, instance, job)
        if instance.opening_amount <= 0:
            job.error(row, job.header_of("opening_amount"), str(AMOUNT_ABOVE_ZERO))


# --- Assets and resources -----------------------------------------------------------------------


class AssetRoster(RosterSpec):
    """Assets (资产), one row each, matched by village code and asset number."""

    kind = "assets"
    label = _("Assets")
    model = Asset
    key = ("village", "code")
    key_paths = ("village__code", "code")
    export_order = ("village__tree_id", "village__lft", "code")
    derived_fields = ("sub_account",)
    matching_note = _("Rows are matched by %(key)s: an asset already in the system is updated, never duplicated.")
    columns = [
        village_column(),
        village_name_column(),
        Column("code", _("Asset number"), Text(), required=True, example="ZC-001", width=12),
        Column("name", _("Name"), Text(), required=True, example=_("Village office building"), width=20),
        Column("kind", _("Kind"), Choice(AssetKind), required=True, example=AssetKind.BUILDING.label, width=14),
        Column("location", _("Location"), Text(), width=20),
        Column("quantity", _("Size or quantity"), Text(), example="320 m²", width=12),
        Column("acquired_on", _("Acquired on"), Date(), width=12),
        Column("value", _("Original value (yuan)"), Money(), required=True, example="860000.00", width=14),
        Column("status", _("Status"), Choice(AssetStatus, default=AssetStatus.IN_USE), width=10,
               note=_("Empty: in use.")),
        Column("sub_account", _("Fixed-asset detail account"), Text(), field=None, export="sub_account__code",
               example="151001", width=14,
               note=_("The code of the detail account of the fixed assets (固定资产) in the village's book.")),
        Column("sub_account_name", _("Detail account name"), export="sub_account__name", width=16),
        Column("is_public_welfare", _("Public-welfare asset"), Bool(), width=10,
               note=_("Schools, roads, cultural rooms: not run for income.")),
    ]

    def prepare(self, row, kwargs, job):
        subs = _by_village(job, "sub_account", SubAccount, code="code", village="book__village_id",
                           select_related=("book", "account"))
        _pick(job, row, "sub_account", _("detail account"), subs, "sub_account", kwargs)
        sub = kwargs.get("sub_account")
        if sub is not None and sub.account.role != AccountRole.FIXED_ASSETS:
            job.error(row, job.header_of("sub_account"), str(NOT_FIXED_ASSETS))


class ResourceRoster(RosterSpec):
    """Resources (资源), one row each, matched by village code and resource number; the export adds the
    contracts each is let out under."""

    kind = "resources"
    label = _("Resources")
    model = Resource
    key = ("village", "code")
    key_paths = ("village__code", "code")
    export_order = ("village__tree_id", "village__lft", "code")
    matching_note = _("Rows are matched by %(key)s: a resource already in the system is updated, never "
                      "duplicated.")
    columns = [
        village_column(),
        village_name_column(),
        Column("code", _("Resource number"), Text(), required=True, example="ZY-001", width=12),
        Column("name", _("Name"), Text(), required=True, example=_("River flats"), width=20),
        Column("kind", _("Kind"), Choice(ResourceKind), required=True, example=ResourceKind.ARABLE.label, width=14),
        Column("area", _("Area (mu)"), Number(), required=True, example="120.5", width=10),
        Column("location", _("Location"), Text(), width=20),
        Column("boundaries", _("Boundaries"), Text(), width=24, note=_("东、南、西、北至")),
        Column("contracts", _("Contracts"), related=ChildEntries(Contract, "resource", "number"), width=16),
    ]

    def validate(self, row, instance, job):
        if instance.area <= 0:
            job.error(row, job.header_of("area"), str(AREA_ABOVE_ZERO))


for _spec in (ContractRoster(), InstalmentRoster(), DebtRecordRoster(), AssetRoster(), ResourceRoster()):
    register(_spec)

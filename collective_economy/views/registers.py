"""Contracts, receivables and debts (清化收): the registers' pages and the township officer's clean-up page.

Every read is the user's area (``visible_to``; out of it is a 404); every write goes through
``collective_economy.services.registers`` as the user, and a refusal comes back on the form or in the
message bar. A private counterparty is named only to the roles that see personal data (the village);
anyone else sees ``counterparty_public``. An overdue payment opens one case in the closed loop
(``instalment_case_open``), asked twice it answers the same case.
"""

import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from collective_economy.forms import yuan
from collective_economy.forms.registers import (
    CleanupFilterForm,
    ContractFilterForm,
    ContractForm,
    DebtFilterForm,
    DebtRecordForm,
    PaymentForm,
    SettleForm,
    parse_amount,
    posted_vouchers,
    resident_label,
    voucher_label,
)
from collective_economy.models import (
    Asset,
    Contract,
    ContractInstalment,
    CounterpartyKind,
    DebtRecord,
    Decision,
    Resource,
)
from collective_economy.selectors.cleanup import (
    cleanup_figures,
    contracts_overdue,
    contracts_with_figures,
    debts_with_figures,
    overdue_payments,
    schedule_of,
)
from collective_economy.services import registers as services
from governance.audit.reveal import record_full_view
from governance.masking import can_view_personal_data, shown_id_number
from governance.models import Level, OrgUnit, Resident
from governance.portal.guard import parse_id, parse_number
from governance.portal.views import ExportMixin, ScopedDetailView, ScopedListView, require_perm, safe_next
from governance.rosters.xlsx import XlsxWriter, xlsx_response
from governance.selectors import subtree_q

P = "collective_economy."
CASE_PERMS = (P + "change_contractinstalment", "grid.add_case")
PICKER_SIZE = 20
OVERDUE_PAGE = 30


def counterparty_shown(obj, full_view: bool) -> str:
    """A firm by its name; a private person by name to the village's roles, else never named."""
    if obj.counterparty_kind == CounterpartyKind.RESIDENT and full_view and obj.counterparty_resident_id:
        return obj.counterparty_resident.name
    return obj.counterparty_public


def shown(obj, *names) -> None:
    """``<name>_shown``: the amount as the page writes it (12,345.60)."""
    for name in names:
        setattr(obj, f"{name}_shown", yuan(getattr(obj, name)))


def _refused(request, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


def _export(filename: str, title: str, headers: list, widths: list, rows) -> HttpResponse:
    buffer = io.BytesIO()
    writer = XlsxWriter(buffer)
    with writer.sheet(title, [str(h) for h in headers], widths=widths) as sheet:
        for row in rows:
            sheet.append(row)
    writer.close()
    return xlsx_response(buffer.getvalue(), filename)


def may_open_case(user) -> bool:
    return user.has_perms(CASE_PERMS)


# --- Contracts -----------------------------------------------------------------------------------


class ContractListView(ExportMixin, ScopedListView):
    """The contracts of the user's area with what they scheduled, received and have overdue; ``?export=xlsx``
    answers the filtered list as a workbook."""

    model = Contract
    filter_form_class = ContractFilterForm
    template_name = "collective_economy/registers/contract_list.html"
    sort_fields = {"village": "village__code", "number": "number", "signed": "signed_on", "ends": "ends_on",
                   "amount": "amount", "received": "received", "overdue": "overdue_amount"}
    default_sort = "village"

    def list_queryset(self, queryset):
        queryset = contracts_with_figures(queryset.select_related("village__parent", "counterparty_resident"))
        if self.filter_form.wants_overdue:
            queryset = contracts_overdue(queryset)
        return queryset

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        full_view = can_view_personal_data(self.request.user)
        for contract in context["object_list"]:
            contract.counterparty_shown = counterparty_shown(contract, full_view)
            shown(contract, "amount", "received", "overdue_amount")
        context["may_add"] = self.request.user.has_perm(P + "add_contract")
        return context

    def export(self):
        full_view = can_view_personal_data(self.request.user)
        headers = [_("Village/community"), _("Contract number"), _("Title"), _("Contract type"),
                   pgettext("register", "Counterparty"), _("Subject"), _("Area (mu)"), _("Location"),
                   _("Contract amount (yuan)"), _("Signed on"), _("Term starts"), _("Term ends"), _("Status"),
                   pgettext("register", "Regular"), _("Problem"), _("Cleaned up on"),
                   _("Arrears found at the clean-up (yuan)"), _("Scheduled (yuan)"), _("Received (yuan)"),
                   _("Overdue (yuan)")]
        rows = ([c.village.display_name, c.number, c.title, c.get_kind_display(), counterparty_shown(c, full_view),
                 " ".join(filter(None, [str(c.get_subject_kind_display()), c.subject])), c.area, c.location,
                 c.amount, c.signed_on, c.starts_on, c.ends_on, c.get_status_display(),
                 _("Yes") if c.is_regular else _("No"), c.get_problem_display() if c.problem else "", c.cleaned_up_on,
                 c.arrears, c.scheduled, c.received, c.overdue_amount]
                for c in self.get_queryset().iterator(chunk_size=2000))
        return _export("contracts.xlsx", pgettext("register", "Contracts"), headers,
                       [14, 16, 24, 10, 20, 20, 10, 20, 16, 12, 12, 12, 8, 8, 16, 12, 16, 16, 16, 16], rows)


class ContractDetailView(ScopedDetailView):
    """A contract: its counterparty and subject, the schedule with what each payment received and still owes, the
    payments with their vouchers, its clean-up and decision, and the receivables registered against it."""

    model = Contract
    template_name = "collective_economy/registers/contract_detail.html"
    context_object_name = "contract"

    def get_queryset(self):
        return super().get_queryset().select_related("village__parent", "counterparty_resident", "resource", "asset",
                                                     "decision")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        contract, user = self.object, self.request.user
        full_view = can_view_personal_data(user)
        schedule = schedule_of(contract)
        for row in schedule:
            shown(row, "amount", "received", "outstanding")
        payments = list(contract.payments.select_related("instalment", "voucher", "recorded_by")
                        .order_by("received_on", "pk"))
        for payment in payments:
            shown(payment, "amount")
        debt_records = list(debts_with_figures(contract.debt_records.all()))
        for record in debt_records:
            shown(record, "opening_amount", "settled", "outstanding")
        shown(contract, "amount", "arrears")
        resident = contract.counterparty_resident if contract.counterparty_kind == CounterpartyKind.RESIDENT else None
        if resident and full_view:  # the resident's ID number in full: audited
            record_full_view(self.request, obj=contract, detail="counterparty id_number")
        zero = services.ZERO
        context.update(
            counterparty=counterparty_shown(contract, full_view),
            resident_id_number=shown_id_number(user, resident.id_number) if resident and full_view else "",
            schedule=schedule,
            totals={"scheduled": yuan(sum((row.amount for row in schedule), start=zero)),
                    "received": yuan(sum((row.received for row in schedule), start=zero)),
                    "outstanding": yuan(sum((row.outstanding for row in schedule), start=zero)),
                    "overdue": yuan(sum((row.outstanding for row in schedule if row.days_overdue), start=zero))},
            payments=payments,
            debt_records=debt_records,
            may_edit=user.has_perm(P + "change_contract"),
            may_pay=user.has_perm(P + "add_contractpayment") and any(row.outstanding > 0 for row in schedule),
            may_open_case=may_open_case(user),
            next_url=self.request.get_full_path(),
        )
        return context


def _contract_page(request, contract: Contract | None):
    form = ContractForm(request.POST or None, instance=contract, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                saved = services.contract_save(user=request.user, contract=contract, **form.service_fields())
                services.instalments_set(contract=saved, schedule=form.schedule_input)
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, _("Contract %(number)s is saved.") % {"number": saved.number})
            return redirect("collective_economy:contract-detail", pk=saved.pk)
    return render(request, "collective_economy/registers/contract_form.html", {
        "form": form, "contract": contract, "rows": form.rows, "schedule_total": yuan(form.schedule_total())})


@login_required
@require_http_methods(["GET", "POST"])
def contract_create(request):
    require_perm(request, P + "add_contract")
    return _contract_page(request, None)


@login_required
@require_http_methods(["GET", "POST"])
def contract_edit(request, pk: int):
    contract = get_object_or_404(Contract.objects.visible_to(request.user).select_related("village"), pk=pk)
    require_perm(request, P + "change_contract")
    return _contract_page(request, contract)


@login_required
@require_http_methods(["GET", "POST"])
def payment_record(request, pk: int):
    """收款: a payment received against a scheduled payment, linked to the posted voucher that booked it."""
    contract = get_object_or_404(Contract.objects.visible_to(request.user).select_related("village"), pk=pk)
    require_perm(request, P + "add_contractpayment")
    schedule = schedule_of(contract)
    form = PaymentForm(request.POST or None, user=request.user, contract=contract, schedule=schedule,
                       initial={"received_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            payment = services.contract_payment_record(instalment=data["instalment"], received_on=data["received_on"],
                                                       amount=data["amount"], voucher=data.get("voucher"),
                                                       user=request.user)
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, _("%(amount)s yuan received on %(date)s is recorded.")
                             % {"amount": f"{payment.amount:,.2f}", "date": payment.received_on.isoformat()})
            return redirect("collective_economy:contract-detail", pk=contract.pk)
    return render(request, "collective_economy/registers/payment_form.html",
                  {"form": form, "contract": contract, "schedule": schedule})


@login_required
@require_POST
def instalment_case(request, pk: int):
    """立案催收: open the case that chases an overdue payment, or go to the one already open."""
    instalment = get_object_or_404(ContractInstalment.objects.visible_to(request.user).select_related("contract"),
                                   pk=pk)
    if not may_open_case(request.user):
        raise PermissionDenied
    back = safe_next(request, reverse("collective_economy:contract-detail", args=[instalment.contract_id]))
    had_case = instalment.case_id is not None
    try:
        case = services.instalment_case_open(instalment=instalment, user=request.user)
    except ValidationError as error:
        _refused(request, error)
        return redirect(back)
    if had_case:
        messages.info(request, _("Case %(number)s already chases this payment.") % {"number": case.number})
    else:
        messages.success(request, _("Case %(number)s is opened to chase the payment.") % {"number": case.number})
    return redirect(back)


# --- Receivables and debts ------------------------------------------------------------------------


class DebtListView(ExportMixin, ScopedListView):
    """Receivables (债权) and debts (债务) with their opening amount, what was collected or resolved, and what
    is still outstanding; ``?export=xlsx`` answers the filtered list."""

    model = DebtRecord
    filter_form_class = DebtFilterForm
    template_name = "collective_economy/registers/debt_list.html"
    sort_fields = {"village": "village__code", "number": "number", "registered": "registered_on",
                   "opening": "opening_amount", "settled": "settled", "outstanding": "outstanding"}
    default_sort = "village"

    def list_queryset(self, queryset):
        queryset = debts_with_figures(queryset.select_related("village__parent", "counterparty_resident",
                                                              "contract"))
        return self.filter_form.filter_state(queryset)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        full_view = can_view_personal_data(self.request.user)
        for record in context["object_list"]:
            record.counterparty_shown = counterparty_shown(record, full_view)
            shown(record, "opening_amount", "settled", "outstanding")
        context["may_add"] = self.request.user.has_perm(P + "add_debtrecord")
        return context

    def export(self):
        full_view = can_view_personal_data(self.request.user)
        headers = [_("Village/community"), pgettext("register", "Kind"), pgettext("register", "Number"),
                   pgettext("register", "Counterparty"), _("Origin"), _("Arisen on"), _("Registered on"),
                   _("Opening amount (yuan)"), _("Collected or resolved (yuan)"), _("Outstanding (yuan)"),
                   pgettext("register", "Contract")]
        rows = ([r.village.display_name, r.get_kind_display(), r.number, counterparty_shown(r, full_view), r.origin,
                 r.arisen_on, r.registered_on, r.opening_amount, r.settled, r.outstanding,
                 r.contract.number if r.contract_id else ""]
                for r in self.get_queryset().iterator(chunk_size=2000))
        return _export("receivables-debts.xlsx", _("Receivables and debts"), headers,
                       [14, 12, 14, 20, 28, 12, 12, 16, 16, 16, 14], rows)


class DebtDetailView(ScopedDetailView):
    model = DebtRecord
    template_name = "collective_economy/registers/debt_detail.html"
    context_object_name = "record"

    def get_queryset(self):
        return debts_with_figures(super().get_queryset().select_related("village__parent", "counterparty_resident",
                                                                        "contract"))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        record, user = self.object, self.request.user
        full_view = can_view_personal_data(user)
        may_settle = user.has_perm(P + "add_debtsettlement") and record.outstanding > 0
        settlements = list(record.settlements.select_related("voucher", "recorded_by").order_by("settled_on", "pk"))
        for settlement in settlements:
            shown(settlement, "amount")
        shown(record, "opening_amount", "settled", "outstanding")
        context.update(
            counterparty=counterparty_shown(record, full_view),
            settlements=settlements,
            may_edit=user.has_perm(P + "change_debtrecord"),
            may_settle=may_settle,
            settle_form=SettleForm(user=user, record=record, initial={"settled_on": timezone.localdate()})
            if may_settle else None,
        )
        return context


def _debt_page(request, record: DebtRecord | None):
    initial = {"registered_on": timezone.localdate()} if record is None else None
    form = DebtRecordForm(request.POST or None, instance=record, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.debt_record_save(user=request.user, record=record, **form.service_fields())
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, _("%(record)s is saved.") % {"record": saved})
            return redirect("collective_economy:debt-detail", pk=saved.pk)
    return render(request, "collective_economy/registers/debt_form.html", {"form": form, "record": record})


@login_required
@require_http_methods(["GET", "POST"])
def debt_create(request):
    require_perm(request, P + "add_debtrecord")
    return _debt_page(request, None)


@login_required
@require_http_methods(["GET", "POST"])
def debt_edit(request, pk: int):
    record = get_object_or_404(DebtRecord.objects.visible_to(request.user).select_related("village"), pk=pk)
    require_perm(request, P + "change_debtrecord")
    return _debt_page(request, record)


@login_required
@require_http_methods(["GET", "POST"])
def debt_settle(request, pk: int):
    """收回 / 化解: part of a receivable collected or of a debt resolved, never more than is outstanding."""
    record = get_object_or_404(debts_with_figures(DebtRecord.objects.visible_to(request.user))
                               .select_related("village"), pk=pk)
    require_perm(request, P + "add_debtsettlement")
    shown(record, "outstanding")
    form = SettleForm(request.POST or None, user=request.user, record=record,
                      initial={"settled_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            settlement = services.debt_settle(record=record, settled_on=data["settled_on"], amount=data["amount"],
                                              way=data["way"], voucher=data.get("voucher"), user=request.user)
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, _("%(amount)s yuan on %(date)s is recorded.")
                             % {"amount": f"{settlement.amount:,.2f}", "date": settlement.settled_on.isoformat()})
            return redirect("collective_economy:debt-detail", pk=record.pk)
    return render(request, "collective_economy/registers/settle_form.html", {"form": form, "record": record})


# --- The clean-up -----------------------------------------------------------------------------------


@login_required
@require_GET
def cleanup(request):
    """清化收: per village and rolled up, the contracts cleaned up, receivables collected and debts resolved against
    their opening amounts, and every overdue payment with its case (or the button that opens one)."""
    require_perm(request, P + "view_contract")
    user, today = request.user, timezone.localdate()
    filter_form = CleanupFilterForm(request.GET or None, user=user)
    filter_form.is_valid()
    within = filter_form.selected_unit
    table = cleanup_figures(fetched_by=user, within=within, today=today)
    if request.GET.get("export") == "xlsx":
        return _cleanup_export(table)
    page = Paginator(overdue_payments(fetched_by=user, within=within, today=today), OVERDUE_PAGE).get_page(
        request.GET.get("page"))
    for row in page.object_list:
        row.outstanding = row.amount - row.received
        row.days_overdue = (today - row.due_on).days
        shown(row, "amount", "received", "outstanding")
    rows = [{"unit": row.unit, "kind": row.kind, "link": _contracts_of(row.unit) if row.kind == "village" else "",
             **figure_cells(row.figures)} for row in table.rows]
    return render(request, "collective_economy/registers/cleanup.html", {
        "filter_form": filter_form, "rows": rows, "total": figure_cells(table.total), "villages": table.villages,
        "scope": within or user.home_unit, "page_obj": page,
        "page_range": page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1),
        "overdue": page.object_list, "today": today, "may_open_case": may_open_case(user),
        "next_url": request.get_full_path(),
    })


def _contracts_of(village: OrgUnit) -> str:
    township = village.parent.code if village.parent_id else ""
    return reverse("collective_economy:contract-list") + "?" + urlencode({"township": township,
                                                                          "village": village.code})


def _percent(value) -> str:
    return "—" if value is None else f"{value}%"


def figure_cells(figures) -> dict:
    """A row of the clean-up as the page writes it."""
    f = figures
    return {"contracts": f.contracts, "irregular": f.irregular, "cleaned_up": f.cleaned_up,
            "share_cleaned_up": _percent(f.share_cleaned_up), "share_value": f.share_cleaned_up or 0,
            "receivable_opening": yuan(f.receivable_opening), "receivable_collected": yuan(f.receivable_collected),
            "receivable_outstanding": yuan(f.receivable_outstanding), "share_collected": _percent(f.share_collected),
            "debt_opening": yuan(f.debt_opening), "debt_resolved": yuan(f.debt_resolved),
            "debt_outstanding": yuan(f.debt_outstanding), "share_resolved": _percent(f.share_resolved),
            "overdue": f.overdue, "overdue_amount": yuan(f.overdue_amount)}


def _cleanup_export(table) -> HttpResponse:
    headers = [_("Village/community"), pgettext("register", "Contracts"), pgettext("register", "Irregular"),
               pgettext("register", "Cleaned up"), _("Share cleaned up (%)"), _("Receivables at the start (yuan)"),
               _("Collected (yuan)"), _("Receivables outstanding (yuan)"), _("Debts at the start (yuan)"),
               _("Resolved (yuan)"), _("Debts outstanding (yuan)"), _("Overdue payments"), _("Overdue (yuan)")]

    def line(label, f):
        return [label, f.contracts, f.irregular, f.cleaned_up, f.share_cleaned_up, f.receivable_opening,
                f.receivable_collected, f.receivable_outstanding, f.debt_opening, f.debt_resolved, f.debt_outstanding,
                f.overdue, f.overdue_amount]

    rows = [line(row.unit.display_name + (_(" (subtotal)") if row.kind == "township" else ""), row.figures)
            for row in table.rows]
    rows.append(line(_("Total"), table.total))
    return _export("cleanup.xlsx", _("Clean-up"), headers, [18, 8, 8, 8, 10, 16, 16, 16, 16, 16, 16, 8, 16], rows)


# --- The registers' type-ahead --------------------------------------------------------------------


def _options(rows, label) -> HttpResponse:
    if not rows:
        return HttpResponse(format_html('<option value="">{}</option>', _("Nothing found")))
    head = format_html('<option value="">{}</option>', _("%(count)s found, choose one") % {"count": len(rows)})
    return HttpResponse(head + format_html_join("", '<option value="{}">{}</option>', ((r.pk, label(r)) for r in rows)))


def _voucher_search(queryset, text):
    found = Q(summary__icontains=text)
    digits = text.lstrip("记J-").strip()
    if (number := parse_number(digits, max_digits=8)) is not None:
        found |= Q(number=number)
    try:
        found |= Q(debit_total=parse_amount(text))
    except ValidationError:
        pass
    return queryset.filter(found)


@login_required
@require_GET
def register_picker(request):
    """Options of the registers' type-aheads, in the user's scope and the chosen village: ``what`` is resident,
    voucher (posted), contract, resource, asset or decision."""
    user = request.user
    village_id = parse_id(request.GET.get("village"))
    village = OrgUnit.objects.visible_to(user).filter(pk=village_id, level=Level.VILLAGE).first() \
        if village_id is not None else None
    what = request.GET.get("what", "")
    text = request.GET.get("q", "").strip()[:50]
    if village is None:
        return HttpResponse(format_html('<option value="">{}</option>', _("Choose the village first")))
    if what == "resident":
        full_view = can_view_personal_data(user)
        rows = Resident.objects.visible_to(user).filter(subtree_q(village, "household__grid"), is_active=True)
        if text:
            # A whole ID number only: it is stored encrypted and found by its hash.
            rows = rows.filter(Q(name__icontains=text) | Q(id_number=text.upper())) if len(text) == 18 \
                else rows.filter(name__icontains=text)
        return _options(list(rows.order_by("name", "pk")[:PICKER_SIZE]), lambda r: resident_label(r, full_view))
    if what == "voucher":
        rows = posted_vouchers(user).filter(book__village=village)
        if text:
            rows = _voucher_search(rows, text)
        return _options(list(rows.order_by("-date", "-number")[:PICKER_SIZE]), voucher_label)
    models = {"contract": Contract, "resource": Resource, "asset": Asset, "decision": Decision}
    if what not in models:
        raise Http404
    rows = models[what].objects.visible_to(user).filter(village=village)
    if text:
        key = "number" if what in ("contract", "decision") else "code"
        rows = rows.filter(Q(**{f"{key}__icontains": text}) | Q(**{"title__icontains" if what in (
            "contract", "decision") else "name__icontains": text}))
    return _options(list(rows.order_by("-pk")[:PICKER_SIZE]), str)


urlpatterns = [
    path("contracts/", ContractListView.as_view(), name="contract-list"),
    path("contracts/new/", contract_create, name="contract-create"),
    path("contracts/<int:pk>/", ContractDetailView.as_view(), name="contract-detail"),
    path("contracts/<int:pk>/edit/", contract_edit, name="contract-edit"),
    path("contracts/<int:pk>/payments/new/", payment_record, name="contract-payment"),
    path("instalments/<int:pk>/case/", instalment_case, name="instalment-case"),
    path("debts/", DebtListView.as_view(), name="debt-list"),
    path("debts/new/", debt_create, name="debt-create"),
    path("debts/<int:pk>/", DebtDetailView.as_view(), name="debt-detail"),
    path("debts/<int:pk>/edit/", debt_edit, name="debt-edit"),
    path("debts/<int:pk>/settle/", debt_settle, name="debt-settle"),
    path("cleanup/", cleanup, name="cleanup"),
    path("registers/picker/", register_picker, name="register-picker"),
]

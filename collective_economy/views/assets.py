"""The three assets (三资) and the project library (4+N): the overview, the assets' and resources' registers,
the projects, and a county's local project categories.

- ``assets/``: funds, assets and resources of a village, or of every village of a township or county
  with one row each (``selectors.assets.assets_overview``); ``unit`` and ``year`` choose them;
- ``assets/list/`` and ``resources/``: the registers, filtered, searched, sorted, paginated and
  exported to Excel; a resource under a contract in force shows the contract with a link to it;
- ``projects/``: the projects by category, with the income the books say they brought;
- ``projects/categories/``: a county's own categories (the "+N").

Reads are limited to the user's area (out of it: 404). Writes need the model's permission and go
through ``collective_economy.services.registers``; a refusal comes back on the form's field.
"""

import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Prefetch, Q, Sum
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django.views.generic import TemplateView

from collective_economy.exports import Column, Row, Table, table_xlsx
from collective_economy.forms.assets import (
    AssetFilterForm,
    AssetForm,
    ProjectCategoryForm,
    ProjectFilterForm,
    ProjectForm,
    ResourceFilterForm,
    ResourceForm,
)
from collective_economy.forms.books import yuan
from collective_economy.models import Asset, BookYear, Contract, ContractStatus, Project, Resource
from collective_economy.selectors import statements as st
from collective_economy.selectors.assets import ZERO, assets_overview, categories_visible, contracted_q, with_income
from collective_economy.selectors.projects import project_income
from collective_economy.services import registers as services
from collective_economy.services.decisions import county_of
from collective_economy.views.statements import ParameterError, statement_unit
from governance.models import ExportLog, Level, OrgUnit
from governance.portal.guard import parse_number
from governance.portal.views import ExportMixin, ScopedListView, require_perm
from governance.rosters.export import export_filters
from governance.rosters.xlsx import XlsxWriter, xlsx_response

P = "collective_economy."


def detail_url(name: str, pk: int, fallback: str) -> str:
    """A page another part of the ledger builds (a contract's, a decision's), by name, else by its path."""
    try:
        return reverse(f"collective_economy:{name}", args=[pk])
    except NoReverseMatch:
        return fallback % pk


def contract_url(pk: int) -> str:
    return detail_url("contract-detail", pk, "/ledger/contracts/%s/")


def decision_url(pk: int) -> str:
    return detail_url("decision-detail", pk, "/ledger/decisions/%s/")


def export_xlsx(request, *, kind: str, filename: str, headers, widths, rows) -> object:
    """The rows as a workbook, logged like every export (no personal data: registers of the collective)."""
    buffer = io.BytesIO()
    writer = XlsxWriter(buffer)
    count = 0
    with writer.sheet(filename, [str(h) for h in headers], widths=widths) as sheet:
        for row in rows:
            sheet.append(row)
            count += 1
    writer.close()
    ExportLog.objects.create(user=request.user, kind=kind, rows=count, with_personal_data=False,
                             filters=export_filters(request))
    return xlsx_response(buffer.getvalue(), f"{kind}-{timezone.localdate():%Y%m%d}.xlsx")


# --- The overview ----------------------------------------------------------------------------------


OVERVIEW_LEVELS = (Level.CITY, Level.COUNTY, Level.TOWNSHIP)


def _year(request) -> int | None:
    value = (request.GET.get("year") or "").strip()
    if not value:
        return None
    year = parse_number(value, max_digits=4)
    if year is None or not 1990 <= year <= 2100:
        raise ParameterError({"year": [_("Enter a year between 1990 and 2100.")]})
    return year


AGREEMENT_COLUMN = 7


def is_wide(overview) -> bool:
    """Villages of several townships: each is named with its township."""
    return overview.unit.level in (Level.CITY, Level.COUNTY)


def overview_table(overview, link) -> Table:
    """The villages side by side: funds, assets (with the books' fixed assets), resources, projects."""
    columns = [Column(_("Village/community"), width=18),
               Column(_("Cash on hand"), True, 14), Column(_("Bank deposits"), True, 14),
               Column(_("Total funds"), True, 14), Column(_("Asset items"), True, 8),
               Column(_("Original value"), True, 15), Column(_("Fixed assets in the books"), True, 15),
               Column(_("Register and books"), width=14), Column(_("Area"), True, 12),
               Column(_("Contracted out"), True, 12), Column(_("Projects"), True, 8),
               Column(_("Income to the collective"), True, 15)]
    groups = [(_("Village/community"), 1), (_("Funds (yuan)"), 3), (_("Assets (yuan)"), 4),
              (_("Resources (mu)"), 2), (_("Projects (yuan)"), 2)]
    wide = is_wide(overview)

    def cells(row, name):
        books = row.has_books
        return [name, row.cash if books else None, row.bank if books else None, row.funds if books else None,
                row.assets, row.assets_value, row.fixed_assets_book if books else None, agreement(row),
                row.area, row.contracted_area, row.projects, row.project_income]

    rows = []
    for row in overview.rows:
        village = row.village
        name = village.display_name
        if wide and village.parent_id:
            name = f"{village.parent.display_name} {name}"
        rows.append(Row(cells(row, name), links={0: link(village.pk)}, blank_zero=False))
    foot = []
    if overview.rows:
        total = cells(overview.totals, _("Total"))
        total[AGREEMENT_COLUMN] = totals_agreement(overview)
        foot.append(Row(total, bold=True, blank_zero=False))
    return Table(_("Three assets of the villages"), columns, rows, groups=groups, foot=foot)


def page_rows(table: Table, overview) -> dict:
    """The table's rows as the page shows them: each cell named by its own column (a phone's card has no
    room for the group), the register-and-books cell as a badge (colour and word)."""
    states = [agreement_state(row) for row in overview.rows]
    states.append("differ" if overview.disagreeing else agreement_state(overview.totals))

    wide = is_wide(overview)

    def named(rows, states, units):
        shown = []
        for row, state, unit in zip(rows, states, units, strict=False):
            cells = [{**cell, "label": column.label} for cell, column in zip(row["cells"], table.columns, strict=True)]
            cells[AGREEMENT_COLUMN]["badge"] = state
            if wide and unit is not None and unit.parent_id:  # the village, its township in small type under it
                cells[0].update(text=unit.display_name, sub=unit.parent.display_name)
            shown.append({**row, "cells": cells})
        return shown

    return {"body": named(table.body, states, [row.village for row in overview.rows]),
            "foot": named(table.footer, states[-1:], [None])}


def agreement_state(row) -> str:
    if not row.has_books:
        return "nobooks"
    return "agree" if row.book_difference == 0 else "differ"


def totals_agreement(overview) -> str:
    """The villages' check summed up: how many differ (two differences never cancel out in a sum)."""
    if not overview.totals.has_books:
        return str(_("No books"))
    if overview.disagreeing:
        return _("%(n)s villages differ") % {"n": len(overview.disagreeing)}
    return str(_("Agree"))


def agreement(row) -> str:
    """账实相符 as a word: agree, or the difference; nothing to compare without books."""
    if not row.has_books:
        return str(_("No books"))
    if row.book_difference == 0:
        return str(_("Agree"))
    return _("Differ by %(amount)s") % {"amount": yuan(row.book_difference)}


class AssetsOverviewView(LoginRequiredMixin, TemplateView):
    """三资概览: funds, assets and resources of a village, or of each village under a township or county."""

    template_name = "collective_economy/assets/overview.html"

    def get(self, request, *args, **kwargs):
        try:
            unit = statement_unit(request)
            year = _year(request)
        except ParameterError as error:
            context = {"errors": [m for messages_ in error.errors.values() for m in messages_]}
            return render(request, self.template_name, context, status=400)
        user = request.user
        year = year or st.latest_year(user, unit) or timezone.localdate().year
        overview = assets_overview(user, unit, year, income_of=project_income)

        def link(pk):
            return "?" + urlencode({"unit": pk, "year": year})

        table = overview_table(overview, link)
        heading = [_("%(unit)s, end of %(year)s") % {"unit": unit.display_name, "year": year},
                   _("Funds and values in yuan, areas in mu")]
        if request.GET.get("export") == "xlsx":
            ExportLog.objects.create(user=user, kind="ledger-three-assets", rows=len(table.rows),
                                     with_personal_data=False, filters=export_filters(request))
            content = table_xlsx(table, heading=heading, signatures=False)
            return xlsx_response(content, f"three-assets-{unit.code}-{year}.xlsx")
        units = list(OrgUnit.objects.visible_to(user).filter(Q(level__in=OVERVIEW_LEVELS) | Q(pk=unit.pk))
                     .order_by("tree_id", "lft"))
        years = set(BookYear.objects.visible_to(user).values_list("year", flat=True).distinct()) | {year}
        totals = overview.totals
        query = {"unit": unit.pk, "year": year}
        parent_link = None
        if unit.parent_id and OrgUnit.objects.visible_to(user).filter(pk=unit.parent_id).exists():
            parent_link = "?" + urlencode({"unit": unit.parent_id, "year": year})
        return render(request, self.template_name, {
            "overview": overview, "unit": unit, "year": year, "totals": totals, "table": table,
            "table_rows": page_rows(table, overview),
            "heading": heading, "parent_link": parent_link,
            "figures": {name: yuan(getattr(totals, name)) for name in (
                "cash", "bank", "funds", "assets_value", "fixed_assets_book", "book_difference", "area",
                "contracted_area", "uncontracted_area", "investment", "project_income")},
            "agreement": agreement(totals) if overview.is_village else "",
            "asset_kinds": [(k, yuan(k.amount)) for k in overview.asset_kinds],
            "resource_kinds": [(k, yuan(k.amount), yuan(k.contracted), yuan(k.uncontracted))
                               for k in overview.resource_kinds],
            "units": [(u.pk, _indent(u) + u.display_name) for u in units],
            "years": sorted(years, reverse=True),
            "export_url": "?" + urlencode({**query, "export": "xlsx"}),
            "balance_sheet_url": reverse("collective_economy:balance-sheet") + "?" + urlencode(query),
            "list_query": urlencode(list_filter(unit)),
        })


def list_filter(unit: OrgUnit) -> dict:
    """The registers' filter bar set to ``unit`` (a township, or a village and its township)."""
    if unit.level == Level.TOWNSHIP:
        return {"township": unit.code}
    if unit.level == Level.VILLAGE:
        return {"township": unit.parent.code, "village": unit.code} if unit.parent_id else {"village": unit.code}
    return {}


def _indent(unit: OrgUnit) -> str:
    return {Level.TOWNSHIP: "　", Level.VILLAGE: "　　"}.get(unit.level, "")


# --- Assets ----------------------------------------------------------------------------------------


class AssetListView(ExportMixin, ScopedListView):
    """资产台账: the registered assets, with the detail account each is booked on."""

    model = Asset
    filter_form_class = AssetFilterForm
    template_name = "collective_economy/assets/asset_list.html"
    sort_fields = {"village": "village__code", "code": "code", "name": "name", "kind": "kind", "value": "value",
                   "acquired_on": "acquired_on", "status": "status"}
    default_sort = "village"

    def list_queryset(self, queryset):
        return queryset.select_related("village__parent", "sub_account__account")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        summary = self.object_list.exclude(status="disposed").aggregate(n=Count("pk"), total=Sum("value"))
        context["summary"] = {"n": summary["n"], "value_text": yuan(summary["total"] or ZERO)}
        context["may_add"] = user.has_perm(P + "add_asset")
        context["may_change"] = user.has_perm(P + "change_asset")
        context["show_village"] = user.home_unit is None or user.home_unit.level != Level.VILLAGE
        for asset in context["object_list"]:
            asset.value_text = yuan(asset.value)
        return context

    def export(self):
        headers = [_("Township"), _("Village/community"), _("Asset number"), _("Name"), _("Kind"), _("Status"),
                   _("Original value (yuan)"), _("Acquired on"), _("Size or quantity"), _("Location"),
                   _("Fixed-asset detail account"), _("Public-welfare asset")]
        rows = ([a.village.parent.display_name if a.village.parent_id else "", a.village.display_name,
                 a.code, a.name, a.get_kind_display(), a.get_status_display(), a.value, a.acquired_on, a.quantity,
                 a.location, f"{a.sub_account.code} {a.sub_account.name}" if a.sub_account else "",
                 _("Yes") if a.is_public_welfare else _("No")]
                for a in self.get_queryset().iterator(chunk_size=2000))
        return export_xlsx(self.request, kind="ledger-assets", filename=_("Assets"), headers=headers,
                           widths=[12, 14, 14, 24, 12, 10, 16, 12, 14, 24, 24, 10], rows=rows)


def _register_form(request, *, form_class, instance, service, saved_message, template, list_url, title):
    """Create or change a register's row through its service; a refusal comes back on the field."""
    form = form_class(request.POST or None, instance=instance, user=request.user)
    if request.method == "POST" and form.is_valid():
        target = None
        try:
            target = service(request.user, instance, form)
        except ValidationError as error:
            form.add_service_error(error)
        if target is not None:
            messages.success(request, saved_message % {"name": str(target)})
            return redirect(list_url)
    return render(request, template, {"form": form, "object": instance, "title": title, "list_url": list_url})


def _asset_save(user, asset, form):
    return services.asset_save(user=user, asset=asset, **form.service_fields())


@login_required
@require_http_methods(["GET", "POST"])
def asset_create(request):
    require_perm(request, P + "add_asset")
    return _register_form(request, form_class=AssetForm, instance=None, service=_asset_save,
                          saved_message=_("Asset %(name)s is registered."),
                          template="collective_economy/assets/form.html",
                          list_url=reverse("collective_economy:asset-list"), title=_("Register an asset"))


@login_required
@require_http_methods(["GET", "POST"])
def asset_edit(request, pk: int):
    asset = get_object_or_404(Asset.objects.visible_to(request.user), pk=pk)
    require_perm(request, P + "change_asset")
    return _register_form(request, form_class=AssetForm, instance=asset, service=_asset_save,
                          saved_message=_("Asset %(name)s is saved."),
                          template="collective_economy/assets/form.html",
                          list_url=reverse("collective_economy:asset-list"), title=_("Change an asset"))


# --- Resources -------------------------------------------------------------------------------------


def in_force_contracts() -> Prefetch:
    """A resource's contracts in force (``in_force``), one query for a page of resources."""
    return Prefetch("contracts", queryset=Contract.objects.filter(status=ContractStatus.IN_FORCE)
                    .order_by("-starts_on", "pk"), to_attr="in_force")


class ResourceListView(ExportMixin, ScopedListView):
    """资源台账: land, forest and water with their area, and the contract in force of each contracted out."""

    model = Resource
    filter_form_class = ResourceFilterForm
    template_name = "collective_economy/assets/resource_list.html"
    sort_fields = {"village": "village__code", "code": "code", "name": "name", "kind": "kind", "area": "area"}
    default_sort = "village"

    def list_queryset(self, queryset):
        return queryset.select_related("village__parent").prefetch_related(in_force_contracts())

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        summary = self.object_list.aggregate(n=Count("pk"), total=Sum("area"),
                                             contracted=Sum("area", filter=Q(contracted_q())))
        area, contracted = summary["total"] or ZERO, summary["contracted"] or ZERO
        context["summary"] = {"n": summary["n"], "area": yuan(area), "contracted": yuan(contracted),
                              "uncontracted": yuan(area - contracted)}
        context["may_add"] = user.has_perm(P + "add_resource")
        context["may_change"] = user.has_perm(P + "change_resource")
        context["show_village"] = user.home_unit is None or user.home_unit.level != Level.VILLAGE
        for resource in context["object_list"]:
            for contract in resource.in_force:
                contract.url = contract_url(contract.pk)
        return context

    def export(self):
        headers = [_("Township"), _("Village/community"), _("Resource number"), _("Name"), _("Kind"),
                   _("Area (mu)"), _("Location"), _("Boundaries"), _("Contract in force"), _("Counterparty"),
                   _("Term ends")]

        def rows():
            for r in self.get_queryset().iterator(chunk_size=2000):
                contract = r.in_force[0] if r.in_force else None
                yield [r.village.parent.display_name if r.village.parent_id else "", r.village.display_name, r.code,
                       r.name, r.get_kind_display(), r.area, r.location, r.boundaries,
                       f"{contract.number} {contract.title}" if contract else "",
                       contract.counterparty_public if contract else "", contract.ends_on if contract else None]

        return export_xlsx(self.request, kind="ledger-resources", filename=_("Resources"), headers=headers,
                           widths=[12, 14, 14, 20, 12, 12, 24, 24, 24, 20, 12], rows=rows())


def _resource_save(user, resource, form):
    return services.resource_save(user=user, resource=resource, **form.service_fields())


@login_required
@require_http_methods(["GET", "POST"])
def resource_create(request):
    require_perm(request, P + "add_resource")
    return _register_form(request, form_class=ResourceForm, instance=None, service=_resource_save,
                          saved_message=_("Resource %(name)s is registered."),
                          template="collective_economy/assets/form.html",
                          list_url=reverse("collective_economy:resource-list"), title=_("Register a resource"))


@login_required
@require_http_methods(["GET", "POST"])
def resource_edit(request, pk: int):
    resource = get_object_or_404(Resource.objects.visible_to(request.user), pk=pk)
    require_perm(request, P + "change_resource")
    return _register_form(request, form_class=ResourceForm, instance=resource, service=_resource_save,
                          saved_message=_("Resource %(name)s is saved."),
                          template="collective_economy/assets/form.html",
                          list_url=reverse("collective_economy:resource-list"), title=_("Change a resource"))


# --- Projects --------------------------------------------------------------------------------------


class ProjectListView(ExportMixin, ScopedListView):
    """项目库: the projects by category (the four and the county's own), each with the income the books hold."""

    model = Project
    template_name = "collective_economy/assets/project_list.html"
    filter_form_class = ProjectFilterForm
    sort_fields = {"village": "village__code", "name": "name", "category": "category__sort_order",
                   "status": "status", "investment": "investment", "started_on": "started_on"}
    default_sort = "village"

    def list_queryset(self, queryset):
        return (queryset.select_related("village__parent", "category", "decision")
                .prefetch_related(Prefetch("villages", queryset=OrgUnit.objects.order_by("tree_id", "lft"))))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        context["object_list"] = page = with_income(context["object_list"], project_income)
        for project in page:
            project.investment_text = yuan(project.investment)
            project.income_text = yuan(project.income)
            project.decision_url = decision_url(project.decision_id) if project.decision_id else ""
            project.others = [v for v in project.villages.all() if v.pk != project.village_id]
        filtered = self.object_list
        totals = filtered.aggregate(n=Count("pk"), total=Sum("investment"))
        income = project_income(filtered.order_by().values("pk"))
        context["summary"] = {"n": totals["n"], "investment": yuan(totals["total"] or ZERO),
                              "income": yuan(sum(income.values(), ZERO))}
        counts = dict(Project.objects.visible_to(user).values_list("category").annotate(n=Count("pk")).order_by())
        picked = self.filter_form.cleaned_data.get("category") if self.filter_form.is_bound else ""
        query = self.request.GET.copy()
        query.pop("page", None)
        chips = []
        for category in self.filter_form.categories:
            query["category"] = category.code
            chips.append({"category": category, "n": counts.get(category.pk, 0), "active": picked == category.code,
                          "href": "?" + query.urlencode(), "local": category.county_id is not None})
        query.pop("category", None)
        context.update(chips=chips, all_href="?" + query.urlencode(), picked=picked,
                       may_add=user.has_perm(P + "add_project"), may_change=user.has_perm(P + "change_project"),
                       may_categories=user.has_perm(P + "add_projectcategory") and _county(user) is not None)
        return context

    def export(self):
        headers = [_("Category"), _("Project"), _("Township"), _("Lead village"), _("Other villages involved"),
                   _("Status"), _("Started on"), _("Investment (yuan)"), _("Income to the collective (yuan)"),
                   _("Village decision")]

        def rows():
            queryset = self.get_queryset()
            income = project_income(queryset.order_by().values("pk"))
            for p in queryset.iterator(chunk_size=2000):
                others = "、".join(v.display_name for v in p.villages.all() if v.pk != p.village_id)
                yield [p.category.name, p.name, p.village.parent.display_name if p.village.parent_id else "",
                       p.village.display_name, others, p.get_status_display(), p.started_on, p.investment,
                       income.get(p.pk, ZERO), f"{p.decision.number} {p.decision.title}" if p.decision else ""]

        return export_xlsx(self.request, kind="ledger-projects", filename=_("Projects"), headers=headers,
                           widths=[12, 24, 12, 14, 24, 10, 12, 16, 16, 24], rows=rows())


def _project_save(user, project, form):
    fields = form.service_fields()
    villages, income_accounts = fields.pop("villages"), fields.pop("income_accounts")
    return services.project_save(user=user, project=project, villages=list(villages),
                                 income_accounts=list(income_accounts), **fields)


@login_required
@require_http_methods(["GET", "POST"])
def project_create(request):
    require_perm(request, P + "add_project")
    return _register_form(request, form_class=ProjectForm, instance=None, service=_project_save,
                          saved_message=_("Project %(name)s is in the library."),
                          template="collective_economy/assets/form.html",
                          list_url=reverse("collective_economy:project-list"), title=_("Add a project"))


@login_required
@require_http_methods(["GET", "POST"])
def project_edit(request, pk: int):
    project = get_object_or_404(Project.objects.visible_to(request.user), pk=pk)
    require_perm(request, P + "change_project")
    return _register_form(request, form_class=ProjectForm, instance=project, service=_project_save,
                          saved_message=_("Project %(name)s is saved."),
                          template="collective_economy/assets/form.html",
                          list_url=reverse("collective_economy:project-list"), title=_("Change a project"))


# --- A county's own categories ---------------------------------------------------------------------


def _county(user) -> OrgUnit | None:
    home = user.home_unit
    return county_of(home) if home is not None and home.level in (Level.COUNTY, Level.TOWNSHIP, Level.VILLAGE) \
        else None


@login_required
@require_http_methods(["GET", "POST"])
def category_list(request, pk: int | None = None):
    """The four categories and the county's own; a county officer adds and changes his county's ones here."""
    user = request.user
    county = _county(user)
    may_edit = county is not None and user.has_perm(P + "add_projectcategory") \
        and user.has_perm(P + "change_projectcategory")
    editing = None
    if pk is not None:
        editing = get_object_or_404(categories_visible(user), pk=pk)
        if editing.county_id is None or not may_edit:
            raise PermissionDenied
    form = None
    if may_edit:
        form = ProjectCategoryForm(request.POST or None, instance=editing, county=county)
        saved = form.save(user) if request.method == "POST" and form.is_valid() else None
        if saved is not None:
            messages.success(request, _("Category %(name)s is saved.") % {"name": saved.name})
            return redirect("collective_economy:project-category-list")
    elif request.method == "POST":
        raise PermissionDenied
    categories = list(categories_visible(user).order_by("county_id", "sort_order", "code"))
    counts = dict(Project.objects.visible_to(user).values_list("category").annotate(n=Count("pk")).order_by())
    for category in categories:
        category.n = counts.get(category.pk, 0)
    return render(request, "collective_economy/assets/category_list.html", {
        "categories": categories, "form": form, "editing": editing, "county": county, "may_edit": may_edit})


urlpatterns = [
    path("assets/", AssetsOverviewView.as_view(), name="assets-overview"),
    path("assets/list/", AssetListView.as_view(), name="asset-list"),
    path("assets/new/", asset_create, name="asset-create"),
    path("assets/<int:pk>/edit/", asset_edit, name="asset-edit"),
    path("resources/", ResourceListView.as_view(), name="resource-list"),
    path("resources/new/", resource_create, name="resource-create"),
    path("resources/<int:pk>/edit/", resource_edit, name="resource-edit"),
    path("projects/", ProjectListView.as_view(), name="project-list"),
    path("projects/new/", project_create, name="project-create"),
    path("projects/<int:pk>/edit/", project_edit, name="project-edit"),
    path("projects/categories/", category_list, name="project-category-list"),
    path("projects/categories/<int:pk>/", category_list, name="project-category-edit"),
]

"""Staff web pages of the grid rosters: grid workers, vacancies, household liaisons.

Every page reads through ``visible_to(request.user)`` (``ScopedMixin``); a worker or liaison
outside the user's subtree is a 404. Writes call ``grid.services.workers`` and show the domain
error a service raises next to the form, never a 500.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import OuterRef
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from governance.audit.reveal import full_view
from governance.models import Household, Level, OrgUnit, Resident
from governance.portal.views import ExportMixin, RosterListMixin, ScopedDetailView, ScopedListView, require_perm
from governance.selectors import count_subquery, subtree_q, unit_chain
from governance.terms import LocalNameBook, local_names
from grid.forms.workers import (
    LiaisonAssignForm,
    LiaisonFilterForm,
    LiaisonUnassignForm,
    VacancyFilterForm,
    WorkerFilterForm,
)
from grid.models import GridWorker, LiaisonHousehold, WorkerType
from grid.rosters.terms import WORKER_TYPES
from grid.selectors.workers import coverage_summary, vacancies, worker_list_queryset
from grid.services import workers as services

# The joins a worker row shows: its unit up to the township, and its backup.
WORKER_ROW_JOINS = ("unit", "unit__parent", "unit__parent__parent", "unit__parent__parent__parent", "backup")
# How many unassigned households the liaison page offers to pick from (the box also takes any number).
ASSIGN_CHOICES = 100


def name_types(workers) -> None:
    """Each worker's type (``type_label``) and his unit's level (``level_label``) as his county calls
    them (德昌: 优网格员, 优网格), from one query for all of them."""
    book = LocalNameBook.for_places(worker.unit.code for worker in workers)
    for worker in workers:
        names = book.at(worker.unit)
        worker.type_label = names.label(WORKER_TYPES, worker.worker_type, worker.get_worker_type_display())
        worker.level_label = names.level(worker.unit.level)


class WorkerListView(ExportMixin, RosterListMixin, ScopedListView):
    model = GridWorker
    filter_form_class = WorkerFilterForm
    template_name = "grid/worker_list.html"
    export_kind = "grid_workers"
    sort_fields = {
        "name": "name",
        "type": "worker_type",
        "unit": "unit__code",
        "post": "post",
        "start_date": "start_date",
    }
    default_sort = "unit"

    def list_queryset(self, queryset):
        return worker_list_queryset(queryset)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        name_types(context["object_list"])
        return context


class WorkerDetailView(ScopedDetailView):
    model = GridWorker
    template_name = "grid/worker_detail.html"
    context_object_name = "worker"

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related(*WORKER_ROW_JOINS, "backup__unit", "party_member__organization", "resident__household")
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        worker = self.object
        user = self.request.user
        context["chain"] = unit_chain(unit=worker.unit, fetched_by=user)
        name_types([worker])
        context["backing_up"] = (
            GridWorker.objects.visible_to(user).filter(backup=worker).select_related("unit").order_by("name")
        )
        context["households"] = _liaison_households(worker, user) if worker.worker_type == WorkerType.LIAISON else None
        context["full_view"] = full_view(self.request, obj=self.object, detail="id_number phone")
        return context


def _liaison_households(liaison, user):
    return (
        LiaisonHousehold.objects.visible_to(user)
        .filter(liaison=liaison)
        .select_related("household", "household__grid")
        .annotate(
            n_residents=count_subquery(Resident.objects.filter(household=OuterRef("household_id"), is_active=True))
        )
        .order_by("household__number")
    )


class VacancyListView(RosterListMixin, ScopedListView):
    """Grids and micro-grids in scope that no current worker serves, with the coverage at a glance."""

    model = OrgUnit
    personal_data = False  # its rows show no ID number or phone
    filter_form_class = VacancyFilterForm
    template_name = "grid/vacancy_list.html"
    sort_fields = {"code": "code", "name": "name", "level": "level"}
    default_sort = "code"
    paginate_by = 50

    def get_queryset(self):
        # The rows come from the selector (scoped there), narrowed by the same filter bar as the other lists.
        user = self.request.user
        self.filter_form = self.filter_form_class(self.request.GET or None, user=user)
        queryset = vacancies(fetched_by=user, level=self.filter_form.picked_level)
        return self.filter_form.filter_queryset(queryset).order_by(*self.get_ordering())

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        unit = self.filter_form.selected_unit or user.home_unit
        context["coverage_unit"] = unit
        context["coverage"] = coverage_summary(unit=unit, fetched_by=user) if unit else {}
        book = LocalNameBook.for_places(vacant.code for vacant in context["object_list"])
        for vacant in context["object_list"]:
            vacant.level_label = book.at(vacant).level(vacant.level)
        return context


class LiaisonListView(ExportMixin, RosterListMixin, ScopedListView):
    model = GridWorker
    filter_form_class = LiaisonFilterForm
    template_name = "grid/liaison_list.html"
    export_kind = "liaisons"
    sort_fields = {"name": "name", "unit": "unit__code", "households": "n_households", "start_date": "start_date"}
    default_sort = "unit"

    def list_queryset(self, queryset):
        return worker_list_queryset(queryset.filter(worker_type=WorkerType.LIAISON))

    def export_queryset(self):
        # The liaison roster has a row per household looked after, of the liaisons listed.
        liaisons = self.get_queryset().order_by().values("pk")
        return LiaisonHousehold.objects.visible_to(self.request.user).filter(liaison__in=liaisons)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["limit"] = settings.LIAISON_MAX_HOUSEHOLDS
        return context


class LiaisonDetailView(ScopedDetailView):
    model = GridWorker
    template_name = "grid/liaison_detail.html"
    context_object_name = "liaison"

    def get_queryset(self):
        return super().get_queryset().filter(worker_type=WorkerType.LIAISON).select_related(*WORKER_ROW_JOINS)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        liaison = self.object
        households = list(_liaison_households(liaison, user))
        context["chain"] = unit_chain(unit=liaison.unit, fetched_by=user)
        liaison.type_label = local_names(liaison.unit).label(WORKER_TYPES, liaison.worker_type,
                                                             liaison.get_worker_type_display())
        context["households"] = households
        context["n_households"] = len(households)
        context["limit"] = settings.LIAISON_MAX_HOUSEHOLDS
        context["full_view"] = full_view(self.request, obj=self.object, detail="id_number phone")
        context.setdefault("assign_form", LiaisonAssignForm(user=user))
        # The households of his grid that nobody looks after yet: the picker's suggestions.
        context["candidates"] = (
            Household.objects.visible_to(user)
            .filter(is_active=True, liaison_link__isnull=True)
            .filter(subtree_q(_standard_grid(liaison.unit), "grid"))
            .order_by("number")[:ASSIGN_CHOICES]
        )
        return context

    def post(self, request, *args, **kwargs):
        """Assign one more household; errors re-render the page with the form."""
        self.object = liaison = self.get_object()
        require_perm(request, "grid.add_liaisonhousehold")
        form = LiaisonAssignForm(request.POST, user=request.user)
        if form.is_valid():
            household = form.cleaned_data["household"]
            try:
                services.liaison_assign(liaison=liaison, household=household)
            except ValidationError as error:
                form.add_service_error(error)
            else:
                messages.success(
                    request, _("Household %(number)s is now looked after by %(name)s.")
                    % {"number": household.number, "name": liaison.name},
                )
                return redirect("grid:liaison-detail", pk=liaison.pk)
        return self.render_to_response(self.get_context_data(assign_form=form))


def _standard_grid(unit: OrgUnit) -> OrgUnit:
    """A liaison looks after households of his standard grid (the grid above a micro-grid)."""
    return unit.parent if unit.level == Level.MICRO_GRID else unit


def _scoped_liaison(request, pk):
    queryset = GridWorker.objects.visible_to(request.user).filter(worker_type=WorkerType.LIAISON)
    return get_object_or_404(queryset.select_related(*WORKER_ROW_JOINS), pk=pk)


@login_required
@require_POST
def liaison_unassign(request, pk):
    liaison = _scoped_liaison(request, pk)
    require_perm(request, "grid.delete_liaisonhousehold")
    form = LiaisonUnassignForm(request.POST, liaison=liaison)
    if not form.is_valid():
        messages.error(request, _("This household is not looked after by this liaison."))
        return redirect("grid:liaison-detail", pk=liaison.pk)
    household = form.cleaned_data["household"]
    try:
        services.liaison_unassign(household=household)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(
            request, _("Household %(number)s is no longer looked after by %(name)s.")
            % {"number": household.number, "name": liaison.name},
        )
    return redirect("grid:liaison-detail", pk=liaison.pk)

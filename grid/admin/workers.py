"""Admin of the grid rosters: grid workers and the households their liaisons look after.

Both are scoped like the org chain's admin (``ScopedAdminMixin``: lists, forms, choices,
search) and write through ``grid.services.workers``. The forms run the services' rules on
their fields before saving (``RuleCheckedForm.check_rules``), so a broken rule is shown where
it belongs; the services check again under row locks, and a race lost there comes back as a
message (``ServiceWriteAdminMixin``).
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from governance.models import Level
from governance.portal.admin import (
    GridFilter,
    PersonalDataMixin,
    ReadOnlyInline,
    RuleCheckedForm,
    ScopedAdminMixin,
    ServiceWriteAdminMixin,
    TownshipFilter,
    VillageFilter,
)
from governance.rosters.admin import RosterAdminMixin
from governance.selectors import unit_for_level_display
from grid.models import GridWorker, LiaisonHousehold, WorkerType
from grid.selectors.workers import current_q, worker_list_queryset
from grid.services.workers import (
    WORKER_FIELDS,
    gridworker_create,
    gridworker_update,
    gridworker_validate,
    has_liaison_error,
    liaison_assign,
    liaison_validate,
)


class CurrentFilter(admin.SimpleListFilter):
    title = _("in post")
    parameter_name = "current"

    def lookups(self, request, model_admin):
        return [("yes", _("In post")), ("no", _("Left"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(current_q())
        if self.value() == "no":
            return queryset.exclude(current_q())
        return queryset


class GridWorkerForm(RuleCheckedForm):
    def check_rules(self):
        gridworker_validate(worker=self.instance)


class LiaisonHouseholdForm(RuleCheckedForm):
    def validate_unique(self):
        """The service's rules say "already has a liaison: <name>" instead of the bare unique check."""

    def check_rules(self):
        link = self.instance
        if not (link.liaison_id and link.household_id):
            return
        # Changing a link moves its household over; adding one must not steal a household.
        existing = liaison_validate(liaison=link.liaison, household=link.household, replace=link.pk is not None)
        if existing is not None and existing.pk != link.pk:
            # The same pair again: nothing to add.
            raise has_liaison_error(existing)


class LiaisonHouseholdInline(ReadOnlyInline):
    """The households a liaison looks after (read here; assigned on the liaison household pages)."""

    model = LiaisonHousehold
    fields = ("household", "address", "since")
    readonly_fields = fields
    verbose_name_plural = _("households looked after")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("household")

    @admin.display(description=_("address"))
    def address(self, obj):
        return obj.household.address


@admin.register(GridWorker)
class GridWorkerAdmin(
    ServiceWriteAdminMixin, ScopedAdminMixin, RosterAdminMixin, PersonalDataMixin, admin.ModelAdmin
):
    roster_kind = "grid_workers"
    form = GridWorkerForm
    # The default columns are the masked ones; get_list_display unmasks for those allowed.
    list_display = (
        "name",
        "id_number_masked",
        "phone_masked",
        "worker_type",
        "unit",
        "village",
        "post",
        "backup",
        "is_party_member",
        "in_post",
    )
    list_filter = (
        "worker_type",
        "post",
        "is_party_member",
        CurrentFilter,
        TownshipFilter,
        VillageFilter,
        GridFilter,
    )
    # An ID number matches only whole: a partial match would reveal masked digits.
    search_fields = ("name", "=id_number", "^unit__code")
    autocomplete_fields = ("unit", "resident", "backup")
    # Party members have no admin page of their own to search in here; the id is checked in scope.
    raw_id_fields = ("party_member",)
    fields = (
        "name",
        "id_number",
        "phone",
        "resident",
        "worker_type",
        "unit",
        "start_date",
        "end_date",
        "is_party_member",
        "party_member",
        "post",
        "backup",
    )
    list_per_page = 100

    def get_queryset(self, request):
        return worker_list_queryset(super().get_queryset(request))

    @admin.display(description=_("village/community"))
    def village(self, obj):
        unit = unit_for_level_display(obj.unit, Level.VILLAGE)
        return unit.display_name if unit else ""

    @admin.display(description=_("in post"), boolean=True)
    def in_post(self, obj):
        return obj.is_current

    def get_inlines(self, request, obj):
        return [LiaisonHouseholdInline] if obj is not None and obj.worker_type == WorkerType.LIAISON else []

    def save_model(self, request, obj, form, change):
        if change:
            changed = {name: getattr(obj, name) for name in form.changed_data if name in WORKER_FIELDS}
            worker = gridworker_update(worker=obj, **changed)
        else:
            worker = gridworker_create(**{name: getattr(obj, name) for name in WORKER_FIELDS})
        self.became(obj, worker)


@admin.register(LiaisonHousehold)
class LiaisonHouseholdAdmin(ServiceWriteAdminMixin, ScopedAdminMixin, RosterAdminMixin, admin.ModelAdmin):
    roster_kind = "liaisons"
    list_display = ("household", "address", "grid", "liaison", "since")
    list_select_related = ("household__grid", "liaison")
    list_filter = (TownshipFilter, VillageFilter, GridFilter)
    search_fields = ("household__number", "household__address", "liaison__name")
    autocomplete_fields = ("liaison", "household")
    fields = ("liaison", "household", "since")
    form = LiaisonHouseholdForm
    list_per_page = 100

    @admin.display(description=_("address"), ordering="household__address")
    def address(self, obj):
        return obj.household.address

    @admin.display(description=_("grid"), ordering="household__grid__code")
    def grid(self, obj):
        return obj.household.grid

    def get_readonly_fields(self, request, obj=None):
        # A link moves a household to another liaison; another household is another link.
        return ("household",) if obj is not None else ()

    def save_model(self, request, obj, form, change):
        link = liaison_assign(liaison=obj.liaison, household=obj.household, since=obj.since, replace=change)
        self.became(obj, link)

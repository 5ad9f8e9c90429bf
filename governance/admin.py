"""Admin of the org chain. Everything a user reaches here is limited to his org subtree.

``ScopedAdminMixin`` is the admin's one scope rule: its ``get_queryset`` calls
``visible_to(request.user)``, and Django's admin builds its list, change, delete, search,
autocomplete and history views on that queryset, so an object outside the subtree "does
not exist". Foreign-key and many-to-many choices and the list filters offer only units and
rows in scope. The OrgUnit admin writes through ``governance.services`` so that the level
and code rules and the tree lock always apply.
"""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import ValidationError
from django.forms import CheckboxSelectMultiple
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from mptt.admin import MPTTModelAdmin
from simple_history.admin import SimpleHistoryAdmin
from simple_history.template_utils import HistoricalRecordContextHelper

from governance.masking import can_view_personal_data, mask_id_number, mask_phone
from governance.models import Household, Level, OrgUnit, Resident, Role, Tag, User
from governance.roles import role_outranks, roles_grantable_by, user_sync_permissions
from governance.roster_admin import RosterAdminMixin
from governance.scope import scope_filter
from governance.selectors import subtree_q
from governance.services import orgunit_create, orgunit_delete, orgunit_update

admin.site.site_header = _("Yiwang system administration")
admin.site.site_title = _("Yiwang system administration")
admin.site.index_title = _("Rosters and org chain")


def sees_everything(user) -> bool:
    """A superuser without a home unit (the system operator) is not limited to a subtree."""
    return scope_filter(user, "") is None


class ScopedAdminMixin:
    """Limits a ModelAdmin (or inline) and its choices to ``visible_to(request.user)``."""

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)

    def _scoped_choices(self, db_field, request):
        model = db_field.remote_field.model
        if not hasattr(model._default_manager, "visible_to"):
            return None  # a global table, such as tags
        queryset = self.get_field_queryset(None, db_field, request)
        if queryset is None:
            queryset = model._default_manager.all()
        return queryset.visible_to(request.user)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "queryset" not in kwargs:
            queryset = self._scoped_choices(db_field, request)
            if queryset is not None:
                kwargs["queryset"] = queryset
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if "queryset" not in kwargs:
            queryset = self._scoped_choices(db_field, request)
            if queryset is not None:
                kwargs["queryset"] = queryset
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    # simple-history's views load the object (or, failing that, its last historical
    # record) without get_queryset; refuse them first for anything out of scope.
    def history_view(self, request, object_id, extra_context=None):
        if not sees_everything(request.user) and self.get_object(request, object_id) is None:
            return self._get_obj_does_not_exist_redirect(request, self.model._meta, object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if not sees_everything(request.user) and self.get_object(request, object_id) is None:
            return self._get_obj_does_not_exist_redirect(request, self.model._meta, object_id)
        return super().history_form_view(request, object_id, version_id, extra_context)


# --- List filters: only units in scope; each narrows the next level down -----------------


class UnitListFilter(admin.SimpleListFilter):
    """Rows inside the subtree of one unit of ``level``, chosen among the units in scope.

    A filter whose choices would be too many (a county has thousands of grids) waits until
    the filter one level up has narrowed it; choosing a unit clears the levels below.
    """

    level: str = ""
    parent_parameter: str | None = None
    child_parameters: tuple[str, ...] = ()
    max_choices = 100

    def __init__(self, request, params, model, model_admin):
        self.path = model.org_scope_field
        self.parent_value = request.GET.get(self.parent_parameter) if self.parent_parameter else None
        super().__init__(request, params, model, model_admin)

    def units(self, request):
        return OrgUnit.objects.visible_to(request.user).filter(level=self.level)

    def lookups(self, request, model_admin):
        units = self.units(request)
        if self.parent_value:
            parent = _unit_or_none(OrgUnit.objects.visible_to(request.user), self.parent_value)
            if parent is None:
                return []
            units = units.filter(subtree_q(parent))
        units = list(units.order_by("code").only("pk", "name", "short_name")[: self.max_choices + 1])
        if len(units) > self.max_choices:
            return []
        return [(str(unit.pk), unit.display_name) for unit in units]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        unit = _unit_or_none(self.units(request), self.value())
        if unit is None:
            return queryset.none()
        return queryset.filter(subtree_q(unit, self.path))

    def choices(self, changelist):
        remove = [self.parameter_name, *self.child_parameters]
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=remove),
            "display": _("All"),
        }
        for value, title in self.lookup_choices:
            yield {
                "selected": self.value() == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}, remove=remove),
                "display": title,
            }


def _unit_or_none(queryset, value):
    if not str(value).isdigit():
        return None
    return queryset.filter(pk=int(value)).first()


class TownshipFilter(UnitListFilter):
    title = _("township")
    parameter_name = "in_township"
    level = Level.TOWNSHIP
    child_parameters = ("in_village", "in_grid")


class VillageFilter(UnitListFilter):
    title = _("village/community")
    parameter_name = "in_village"
    level = Level.VILLAGE
    parent_parameter = "in_township"
    child_parameters = ("in_grid",)


class GridFilter(UnitListFilter):
    title = _("grid")
    parameter_name = "in_grid"
    level = Level.GRID
    parent_parameter = "in_village"


class TagListFilter(admin.SimpleListFilter):
    title = _("tag")
    parameter_name = "tag"
    applies_to = ""

    def lookups(self, request, model_admin):
        return list(Tag.objects.filter(applies_to=self.applies_to).values_list("code", "name"))

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(tags__code=self.value())
        return queryset


class HouseholdTagFilter(TagListFilter):
    applies_to = Tag.AppliesTo.HOUSEHOLD


class ResidentTagFilter(TagListFilter):
    applies_to = Tag.AppliesTo.RESIDENT


# --- Org units ----------------------------------------------------------------------------

# The OrgUnit fields the services take.
ORGUNIT_FIELDS = ("code", "name", "short_name", "level", "kind", "parent", "is_active", "latitude", "longitude")


@admin.register(OrgUnit)
class OrgUnitAdmin(RosterAdminMixin, ScopedAdminMixin, SimpleHistoryAdmin, MPTTModelAdmin):
    """The org tree, indented. Units move by changing their parent (and code) in the form:

    a drag-and-drop move could not also change the code, which the rules tie to the parent.
    Grids and micro-grids (which the official division list does not have) are also imported
    and exported as a roster (``roster_kind``).
    """

    roster_kind = "grids"
    change_list_template = "admin/governance/orgunit/change_list.html"
    list_display = ("name", "code", "short_name", "level", "kind", "is_active")
    list_display_links = ("name", "code")
    mptt_indent_field = "name"
    mptt_level_indent = 20
    list_filter = ("level", "kind", "is_active", TownshipFilter)
    search_fields = ("code", "name", "short_name")
    autocomplete_fields = ("parent",)
    fields = ORGUNIT_FIELDS
    list_per_page = 200

    def get_urls(self):
        urls = [
            path(
                "import-divisions/",
                self.admin_site.admin_view(self.import_divisions_view),
                name="governance_orgunit_import_divisions",
            )
        ]
        return urls + super().get_urls()

    def import_divisions_view(self, request):
        # Imported on use: the importer is a large module the rest of the admin does not need.
        # It decides itself who may import (administrators) and says so to anyone else.
        from governance.divisions import admin_import_view

        return admin_import_view(self, request)

    def changelist_view(self, request, extra_context=None):
        user = request.user
        may_import = user.is_superuser or getattr(user, "role", None) == Role.ADMIN
        return super().changelist_view(request, {"may_import_divisions": may_import, **(extra_context or {})})

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "parent" and not sees_everything(request.user):
            # A scoped user creates units only inside his subtree, never a new root.
            kwargs["required"] = True
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def _is_own_home_unit(self, request, obj) -> bool:
        return obj is not None and not request.user.is_superuser and obj.pk == request.user.home_unit_id

    def has_change_permission(self, request, obj=None):
        # The unit a user's scope hangs on is not his to rename, recode or move.
        return super().has_change_permission(request, obj) and not self._is_own_home_unit(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not self._is_own_home_unit(request, obj)

    def get_actions(self, request):
        # Bulk deletion would bypass orgunit_delete's rules; units are deleted one at a time.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def save_model(self, request, obj, form, change):
        if change:
            changed = {name: getattr(obj, name) for name in form.changed_data if name in ORGUNIT_FIELDS}
            unit = orgunit_update(unit=obj, **changed)
        else:
            unit = orgunit_create(**{name: getattr(obj, name) for name in ORGUNIT_FIELDS})
        # The admin goes on with ``obj`` (log entry, redirect): make it the saved row.
        obj.pk = unit.pk
        obj.refresh_from_db()
        obj._state.adding = False

    def delete_model(self, request, obj):
        orgunit_delete(unit=obj)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as exc:
            # The form validated, but the tree changed before the service wrote (a concurrent
            # edit): the transaction was rolled back; say why and let the user retry.
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
            return HttpResponseRedirect(
                reverse("admin:governance_orgunit_change", args=[object_id], current_app=self.admin_site.name)
            )


# --- Households and residents -------------------------------------------------------------


class MaskingHistoryHelper(HistoricalRecordContextHelper):
    """Shows ID numbers and phones masked in the history's "changes" column."""

    masks = {"id_number": mask_id_number, "phone": mask_phone}

    def prepare_delta_change_value(self, change, value):
        value = super().prepare_delta_change_value(change, value)
        mask = self.masks.get(change.field)
        return mask(value or "") if mask else value


class PersonalDataMixin:
    """ID numbers and phones: real fields for users who may see them, masked read-only text otherwise.

    The masked columns are always masked, so a screen that forgets to ask shows less, not more.
    """

    # A masked user sees no birth date either: it is the part of the ID number the mask hides.
    personal_fields = {"id_number": "id_number_masked", "phone": "phone_masked", "birth_date": None}

    @admin.display(description=_("ID number"))
    def id_number_masked(self, obj):
        return mask_id_number(obj.id_number)

    @admin.display(description=_("phone"))
    def phone_masked(self, obj):
        return mask_phone(obj.phone)

    def _shown(self, request, names):
        if can_view_personal_data(request.user):
            return list(names)
        shown = [self.personal_fields.get(name, name) for name in names]
        return [name for name in shown if name is not None]


class ResidentInline(ScopedAdminMixin, PersonalDataMixin, admin.TabularInline):
    model = Resident
    fields = ("name", "id_number", "phone", "relation", "is_active")
    extra = 0
    show_change_link = True

    def get_fields(self, request, obj=None):
        return self._shown(request, super().get_fields(request, obj))

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if not can_view_personal_data(request.user):
            readonly += [name for name in self.personal_fields.values() if name]
        return readonly

    def has_add_permission(self, request, obj=None):
        # Adding a resident means typing an ID number, which a masked user enters on the resident form.
        return can_view_personal_data(request.user) and super().has_add_permission(request, obj)


@admin.register(Household)
class HouseholdAdmin(RosterAdminMixin, ScopedAdminMixin, SimpleHistoryAdmin):
    roster_kind = "households"
    list_display = ("number", "address", "grid", "tag_names", "is_active")
    list_select_related = ("grid",)
    list_filter = (TownshipFilter, VillageFilter, GridFilter, HouseholdTagFilter, "is_active")
    search_fields = ("number", "address")
    autocomplete_fields = ("grid",)
    fields = ("number", "address", "grid", "tags", "is_active")
    inlines = [ResidentInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("tags")

    @admin.display(description=_("tags"))
    def tag_names(self, obj):
        return ", ".join(tag.name for tag in obj.tags.all())

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "tags":
            kwargs["queryset"] = Tag.objects.filter(applies_to=Tag.AppliesTo.HOUSEHOLD)
            kwargs["widget"] = CheckboxSelectMultiple
        return super().formfield_for_manytomany(db_field, request, **kwargs)


@admin.register(Resident)
class ResidentAdmin(RosterAdminMixin, ScopedAdminMixin, PersonalDataMixin, SimpleHistoryAdmin):
    roster_kind = "residents"
    # The default columns are the masked ones; get_list_display unmasks for those allowed.
    list_display = ("name", "id_number_masked", "sex", "phone_masked", "relation", "household", "grid")
    list_select_related = ("household__grid",)
    list_filter = (TownshipFilter, VillageFilter, GridFilter, ResidentTagFilter, "sex", "relation", "is_active")
    # An ID number matches only whole: a partial match would reveal masked digits.
    search_fields = ("name", "household__number", "=id_number")
    autocomplete_fields = ("household",)
    fields = ("household", "name", "id_number", "birth_date", "sex", "phone", "relation", "tags", "is_active")
    readonly_fields = ("birth_date", "sex")

    @admin.display(description=_("grid"), ordering="household__grid__code")
    def grid(self, obj):
        return obj.household.grid

    def get_list_display(self, request):
        if can_view_personal_data(request.user):
            return ["name", "id_number", "sex", "birth_date", "phone", "relation", "household", "grid"]
        return self.list_display

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        # A new resident needs his ID number typed in; an existing one is shown masked.
        return fields if obj is None else self._shown(request, fields)

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None and not can_view_personal_data(request.user):
            readonly += [name for name in self.personal_fields.values() if name]
        return readonly

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "tags":
            kwargs["queryset"] = Tag.objects.filter(applies_to=Tag.AppliesTo.RESIDENT)
            kwargs["widget"] = CheckboxSelectMultiple
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_historical_record_context_helper(self, request, historical_record):
        if can_view_personal_data(request.user):
            return super().get_historical_record_context_helper(request, historical_record)
        return MaskingHistoryHelper(self.model, historical_record)


# --- Users and tags -----------------------------------------------------------------------


@admin.register(User)
class UserAdmin(ScopedAdminMixin, DjangoUserAdmin):
    """Staff users of the subtree. Permissions come from the role (governance.roles)."""

    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personal info"), {"fields": ("last_name", "first_name", "email", "phone")}),
        (_("Org scope"), {"fields": ("home_unit", "role")}),
        (_("Permissions"), {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "usable_password", "password1", "password2", "home_unit", "role", "is_staff"),
            },
        ),
    )
    list_display = ("username", "last_name", "first_name", "role", "home_unit", "is_staff", "is_active")
    list_select_related = ("home_unit",)
    list_filter = ("role", "is_staff", "is_active", TownshipFilter)
    search_fields = ("username", "first_name", "last_name", "email", "phone")
    autocomplete_fields = ("home_unit",)
    filter_horizontal = ("groups",)

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            # Only a superuser makes superusers or hands out rights beyond a role.
            readonly += ["is_superuser", "groups", "last_login", "date_joined"]
        return readonly

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "role":
            grantable = roles_grantable_by(request.user)
            kwargs["choices"] = [(value, label) for value, label in db_field.choices if value in grantable]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def _outranks_me(self, request, obj) -> bool:
        user = request.user
        if obj is None or user.is_superuser:
            return False
        return obj.is_superuser or role_outranks(obj.role, user.role)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not self._outranks_me(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not self._outranks_me(request, obj)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        user_sync_permissions(form.instance)


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    """Tags are shared by the whole portal, so not scoped."""

    list_display = ("code", "name", "applies_to")
    list_filter = ("applies_to",)
    search_fields = ("code", "name")

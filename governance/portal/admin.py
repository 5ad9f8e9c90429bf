"""The admin bases every app builds on, one copy each.

``ScopedAdminMixin`` is the admin's one scope rule: its ``get_queryset`` calls
``visible_to(request.user)``, and Django's admin builds its list, change, delete, search,
autocomplete and history views on that queryset, so an object outside the subtree "does
not exist". Foreign-key and many-to-many choices and the list filters offer only units and
rows in scope. Admins that write through services use ``ServiceWriteAdminMixin``, and forms
that run a service's check use ``RuleCheckedForm``; ``PersonalDataMixin`` masks ID numbers
and phones for roles that may not see them.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.http import HttpResponseRedirect
from django.utils.translation import gettext_lazy as _

from governance.audit.reveal import full_view
from governance.masking import can_view_personal_data, mask_id_number, mask_phone
from governance.models import Level, OrgUnit
from governance.portal.guard import parse_id
from governance.roles import may_use_admin
from governance.scope import scope_filter
from governance.selectors import subtree_q


class PortalAdminSite(admin.AdminSite):
    """The admin site (governance.apps.PortalAdminConfig): staff of the roles that keep rosters only
    (``governance.roles.may_use_admin``); anyone else meets the admin's login page, which says his
    account cannot open it."""

    def has_permission(self, request):
        return super().has_permission(request) and may_use_admin(request.user)


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

    # The admin's history page loads the object without get_queryset; refuse it first for anything
    # out of scope.
    def history_view(self, request, object_id, extra_context=None):
        if not sees_everything(request.user) and self.get_object(request, object_id) is None:
            return self._get_obj_does_not_exist_redirect(request, self.model._meta, object_id)
        return super().history_view(request, object_id, extra_context)


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
        path = model.org_scope_field
        # A row seen from two places (a case: where it is, and who handles it) is filtered by where it is.
        self.path = path[0] if isinstance(path, tuple) else path
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
    pk = parse_id(value)
    return None if pk is None else queryset.filter(pk=pk).first()


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


# --- Writes through services ----------------------------------------------------------------


def add_rule_errors(form: forms.BaseForm, exc: ValidationError) -> None:
    """A service rule's errors on the form: on their field when it is shown, above the form if not."""
    for field, field_errors in exc.update_error_dict({}).items():
        form.add_error(field if field in form.fields and field != NON_FIELD_ERRORS else None, field_errors)


class RuleCheckedForm(forms.ModelForm):
    """Runs ``check_rules`` (a service's check) once the fields and the model's own rules passed."""

    def check_rules(self):
        pass

    def _post_clean(self):
        super()._post_clean()
        if not self.errors:
            try:
                self.check_rules()
            except ValidationError as exc:
                add_rule_errors(self, exc)


class ServiceWriteAdminMixin:
    """A ModelAdmin that saves through a service (its ``save_model`` calls one).

    The form ran the service's rules already; a rule refused when the service writes (a
    concurrent change got there first) rolled the transaction back and becomes a message on
    the same page. ``bulk_delete = False`` removes the "delete selected" action, which would
    skip the rules: rows are then deleted one at a time, through ``delete_model``.
    """

    bulk_delete = True

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not self.bulk_delete:
            actions.pop("delete_selected", None)
        return actions

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    @staticmethod
    def became(obj, saved) -> None:
        """The admin goes on with ``obj`` (log entry, redirect): make it the row the service saved."""
        obj.pk = saved.pk
        obj.refresh_from_db()
        obj._state.adding = False


class ReadOnlyInline(admin.TabularInline):
    """Rows shown under the object they belong to, in the user's scope; neither added nor changed here
    (a case's timeline, a wish's history: written by the steps alone)."""

    extra = 0
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


# --- Personal data ----------------------------------------------------------------------------


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

    def _shown(self, request, names, obj=None):
        if full_view(request, obj=obj, detail="admin"):
            return list(names)
        shown = [self.personal_fields.get(name, name) for name in names]
        return [name for name in shown if name is not None]

    def get_list_display(self, request):
        """The list's masked columns, swapped for the real ones for users who may see them."""
        if not full_view(request, detail=f"admin {self.model._meta.label} list"):
            return self.list_display
        real = {masked: name for name, masked in self.personal_fields.items() if masked}
        return [real.get(name, name) for name in self.list_display]

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        # A new row needs its ID number typed in; an existing one is shown masked.
        return fields if obj is None else self._shown(request, fields, obj)

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None and not can_view_personal_data(request.user):
            readonly += [name for name in self.personal_fields.values() if name]
        return readonly


def run_each(model_admin, request, queryset, function, done_message):
    """Run a service on every selected row; report how many went through and why the others did not."""
    done, refused = 0, []
    for obj in queryset:
        try:
            function(obj)
            done += 1
        except ValidationError as exc:
            refused.append(f"{obj}: {' '.join(exc.messages)}")
    if done:
        model_admin.message_user(request, done_message(done), messages.SUCCESS)
    for line in refused:
        model_admin.message_user(request, line, messages.ERROR)

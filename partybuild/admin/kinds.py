"""Admin of the kinds of party organisation and the kinds each may sit under: configuration for the whole
portal, so for administrators only (not scoped: no county owns a kind). Writes go through the services,
which keep every stored organisation fitting the rules."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import OuterRef
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from governance.models import Role
from governance.portal.admin import RuleCheckedForm, ServiceWriteAdminMixin
from governance.selectors import count_subquery
from partybuild.admin.common import changed_fields
from partybuild.models import PartyOrganization, PartyOrganizationKind
from partybuild.services.kinds import (
    KIND_FIELDS,
    organization_kind_check,
    organization_kind_create,
    organization_kind_delete,
    organization_kind_update,
)


def is_administrator(user) -> bool:
    return user.is_active and (user.is_superuser or user.role == Role.ADMIN)


class PartyOrganizationKindForm(RuleCheckedForm):
    class Meta:
        model = PartyOrganizationKind
        fields = ("name", "code", "aliases", "parents", "sort_order")

    def check_rules(self):
        organization_kind_check(kind=self.instance, parents=self.cleaned_data.get("parents") or ())


@admin.register(PartyOrganizationKind)
class PartyOrganizationKindAdmin(ServiceWriteAdminMixin, admin.ModelAdmin):
    """党委, 街道党工委, 党支部 …: each with its other names and the kinds it may sit under."""

    form = PartyOrganizationKindForm
    bulk_delete = False
    list_display = ("name", "code", "aliases", "sits_under", "organizations", "sort_order")
    fields = ("name", "code", "aliases", "parents", "sort_order")
    filter_horizontal = ("parents",)
    search_fields = ("name", "code", "aliases")
    ordering = ("sort_order", "code")

    def get_queryset(self, request):
        used = PartyOrganization.objects.filter(kind=OuterRef("code"))
        return super().get_queryset(request).annotate(n_organizations=count_subquery(used)).prefetch_related("parents")

    @admin.display(description=_("may sit under"))
    def sits_under(self, obj):
        return "、".join(parent.name for parent in obj.parents.all()) or "—"

    @admin.display(description=_("organisations"), ordering="n_organizations")
    def organizations(self, obj):
        return obj.n_organizations

    # -- administrators only --

    def has_module_permission(self, request):
        return is_administrator(request.user) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return is_administrator(request.user) and super().has_view_permission(request, obj)

    def has_add_permission(self, request):
        return is_administrator(request.user) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return is_administrator(request.user) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        # A kind organisations are of stays (the service refuses it too).
        in_use = obj is not None and PartyOrganization.objects.filter(kind=obj.code).exists()
        return is_administrator(request.user) and super().has_delete_permission(request, obj) and not in_use

    def get_readonly_fields(self, request, obj=None):
        # Organisations store the code: it is fixed once used.
        if obj is not None and PartyOrganization.objects.filter(kind=obj.code).exists():
            return ("code",)
        return ()

    # -- writes through the services --

    def save_model(self, request, obj, form, change):
        parents = form.cleaned_data["parents"]
        if change:
            saved = organization_kind_update(kind=obj, parents=parents, **changed_fields(obj, form, KIND_FIELDS))
        else:
            saved = organization_kind_create(code=obj.code, name=obj.name, aliases=obj.aliases,
                                             sort_order=obj.sort_order, parents=parents)
        self.became(obj, saved)

    def save_related(self, request, form, formsets, change):
        pass  # the service set the kinds it may sit under

    def delete_model(self, request, obj):
        organization_kind_delete(kind=obj)

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except ValidationError as exc:  # an organisation took the kind meanwhile
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
            return HttpResponseRedirect(reverse("admin:partybuild_partyorganizationkind_change", args=[object_id],
                                                current_app=self.admin_site.name))

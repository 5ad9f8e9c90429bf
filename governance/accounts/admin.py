"""The administrators' list of staff users: each sees the users of his org subtree, hands out only
the roles his own outranks (``governance.roles``), and revokes tokens or a lost phone's second
factor with the list's actions (the rules in ``governance.portal.auth``).
"""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from governance.models import User
from governance.portal.admin import ScopedAdminMixin, TownshipFilter
from governance.portal.auth import token_revoke, totp_devices_remove
from governance.roles import may_use_admin, role_outranks, roles_grantable_by, user_sync_permissions


@admin.register(User)
class UserAdmin(ScopedAdminMixin, DjangoUserAdmin):
    """Staff users of the subtree. Permissions come from the role (governance.roles)."""

    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personal info"), {"fields": ("last_name", "first_name", "email", "phone")}),
        (_("Org scope"), {"fields": ("home_unit", "role")}),
        (_("Permissions"), {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        (_("Important dates"), {"fields": ("last_login", "date_joined", "password_changed_at",
                                           "must_change_password")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "usable_password", "password1", "password2", "home_unit", "role"),
            },
        ),
    )
    list_display = ("username", "last_name", "first_name", "role", "home_unit", "is_staff", "is_active")
    list_select_related = ("home_unit",)
    list_filter = ("role", "is_staff", "is_active", TownshipFilter)
    # Not the phone: it is stored encrypted (governance.crypto) and users' phones have no lookup hash.
    search_fields = ("username", "first_name", "last_name", "email")
    autocomplete_fields = ("home_unit",)
    filter_horizontal = ("groups",)
    actions = ("revoke_api_tokens", "remove_second_factor", "force_password_change")

    def get_readonly_fields(self, request, obj=None):
        # is_staff follows the role (save_model): shown, never ticked by hand.
        readonly = [*super().get_readonly_fields(request, obj), "password_changed_at", "is_staff"]
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

    def save_model(self, request, obj, form, change):
        # The admin is for the roles that keep rosters: is_staff follows the role, whatever the box said.
        obj.is_staff = may_use_admin(obj)
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        user_sync_permissions(form.instance)

    @admin.action(description=_("Revoke the API tokens of the selected users"), permissions=["change"])
    def revoke_api_tokens(self, request, queryset):
        done = sum(token_revoke(user=user, request=request) for user in queryset)
        self.message_user(request, gettext("%(count)d API tokens revoked.") % {"count": done}, messages.SUCCESS)

    @admin.action(description=_("Remove the second factor of the selected users (a lost phone)"),
                  permissions=["change"])
    def remove_second_factor(self, request, queryset):
        done = sum(bool(totp_devices_remove(user=user, request=request)) for user in queryset)
        self.message_user(request, gettext("Second factor removed for %(count)d users.") % {"count": done},
                          messages.SUCCESS)

    @admin.action(description=_("Make the selected users change their password at next login"),
                  permissions=["change"])
    def force_password_change(self, request, queryset):
        done = 0
        for user in queryset:
            user.must_change_password = True
            user.save(update_fields=["must_change_password"])
            done += 1
        self.message_user(request, gettext("%(count)d users must change their password.") % {"count": done},
                          messages.SUCCESS)

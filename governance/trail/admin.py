"""The trail in the Django admin: read only, for administrators — no add, change or delete, even for a superuser."""

from django.contrib import admin

from governance.audit.selectors import can_read_trail
from governance.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("at", "actor", "address", "action", "object_type", "object_id", "object_repr", "source")
    list_filter = ("action", "source", "at")
    search_fields = ("actor", "object_repr", "object_type", "object_id", "detail", "=address")
    date_hierarchy = "at"
    readonly_fields = [f.name for f in AuditEvent._meta.fields]
    show_full_result_count = False  # a count of millions of rows on every page is the slowest part
    actions = None

    def has_module_permission(self, request):
        return can_read_trail(request.user)

    def has_view_permission(self, request, obj=None):
        return can_read_trail(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

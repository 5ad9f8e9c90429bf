"""Admin of cases: the taxonomy, the deadlines by colour, cases, mediations and Open311 clients.

Cases are scoped like every roster (``ScopedAdminMixin``) and move only through the portal's
pages (``grid.services.cases``): here their state, number, people and timestamps are read-only,
they are neither added (numbering, the idempotent report) nor deleted (numbers are never
reused) nor changed (nobody edits a case's text outside the loop): everyone reads them here.
An Open311 client's key is generated here (``secrets.token_urlsafe(32)``), only its SHA-256
hash and first 8 characters are stored, and the full key is shown once, on the page that follows
the save (or the "issue a new key" action).
"""

import secrets
from operator import attrgetter

from django.contrib import admin
from django.db.models import Q
from django.template.response import TemplateResponse
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from governance.audit.reveal import full_view
from governance.masking import can_view_personal_data, mask_phone
from governance.models import Role
from governance.portal.admin import (
    ReadOnlyInline,
    ScopedAdminMixin,
    ServiceWriteAdminMixin,
    TownshipFilter,
    VillageFilter,
)
from governance.portal.guard import parse_id
from governance.rosters.admin import RosterAdminMixin
from grid.models import (
    Case,
    CaseAttachment,
    CaseCategory,
    CaseEvent,
    Colour,
    ColourDeadline,
    Mediation,
    Open311Client,
    open311_key_hash,
)

KEY_TEMPLATE = "admin/grid/open311client/key.html"

# --- Taxonomy and deadlines ----------------------------------------------------------------


class ParentCategoryFilter(admin.SimpleListFilter):
    title = _("category")
    parameter_name = "parent"

    def lookups(self, request, model_admin):
        top = CaseCategory.objects.filter(parent__isnull=True).order_by("sort_order", "code")
        return [("top", _("Top categories")), *((str(c.pk), c.name) for c in top)]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "top":
            return queryset.filter(parent__isnull=True)
        if (pk := parse_id(value)) is not None:
            return queryset.filter(parent_id=pk)
        return queryset


@admin.register(CaseCategory)
class CaseCategoryAdmin(admin.ModelAdmin):
    """The two-level taxonomy; a category's code is also its Open311 service code."""

    list_display = ("name", "code", "parent", "sort_order", "is_active")
    list_editable = ("sort_order", "is_active")
    list_filter = (ParentCategoryFilter, "is_active")
    list_select_related = ("parent",)
    search_fields = ("code", "name")
    fields = ("parent", "code", "name", "description", "sort_order", "is_active")
    ordering = ("sort_order", "code")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "parent":
            kwargs["queryset"] = CaseCategory.objects.filter(parent__isnull=True).order_by("sort_order", "code")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        # Cases, reports and Open311 clients name a category by its code: it is fixed once used.
        if obj is not None and obj.cases.exists():
            return ("code",)
        return ()


@admin.register(ColourDeadline)
class ColourDeadlineAdmin(admin.ModelAdmin):
    """How many hours a case of each colour has from dispatch (new dispatches use the new value)."""

    list_display = ("colour", "hours")
    list_editable = ("hours",)
    list_display_links = ("colour",)
    fields = ("colour", "hours")

    def get_readonly_fields(self, request, obj=None):
        return ("colour",) if obj is not None else ()

    def has_add_permission(self, request):
        # One row per colour (seeded); a missing one falls back to the default and may be added again.
        return super().has_add_permission(request) and ColourDeadline.objects.count() < len(Colour.values)

    def has_delete_permission(self, request, obj=None):
        return False


# --- Cases -----------------------------------------------------------------------------------


class CaseEventInline(ReadOnlyInline):
    model = CaseEvent
    fields = ("at", "action", "from_state", "to_state", "actor", "unit", "comment", "migrated")
    readonly_fields = fields
    verbose_name_plural = _("timeline")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor", "unit")


class CaseAttachmentInline(ReadOnlyInline):
    model = CaseAttachment
    fields = ("name", "content_type", "size", "event", "uploaded_by", "uploaded_at")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("uploaded_by", "event")


class MediationInline(ReadOnlyInline):
    model = Mediation
    fields = ("held_on", "mediator", "room", "outcome", "notes")
    readonly_fields = fields


class CaseCategoryListFilter(admin.SimpleListFilter):
    """A category matches its sub-categories too."""

    title = _("category")
    parameter_name = "category"

    def lookups(self, request, model_admin):
        categories = list(CaseCategory.objects.select_related("parent"))
        categories.sort(key=attrgetter("tree_order"))
        return [(c.code, str(c)) for c in categories]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(Q(category__code=self.value()) | Q(category__parent__code=self.value()))
        return queryset


@admin.register(Case)
class CaseAdmin(ServiceWriteAdminMixin, ScopedAdminMixin, RosterAdminMixin, admin.ModelAdmin):
    """Cases of the user's area. Their steps are taken on the portal's case pages; historical
    cases from an old system come in by Excel import (the "cases" roster)."""

    roster_kind = "cases"

    list_display = ("number", "title", "category", "grid", "state", "colour", "triage", "handling_unit", "due_at",
                    "is_overdue", "reported_at")
    list_select_related = ("category__parent", "grid", "handling_unit")
    list_filter = ("state", "colour", "triage", CaseCategoryListFilter, "source", "is_overdue", TownshipFilter,
                   VillageFilter)
    search_fields = ("=number", "title")
    date_hierarchy = "reported_at"
    list_per_page = 100
    show_full_result_count = False  # a county has millions of cases: no second COUNT(*)
    inlines = (CaseEventInline, CaseAttachmentInline, MediationInline)
    fieldsets = (
        (None, {"fields": ("number", "title", "description", "category", "source", "triage", "colour")}),
        (_("Where and who"), {"fields": ("grid", "household", "address", "latitude", "longitude", "reporter",
                                         "reporter_name", "reporter_phone")}),
        (_("Handling"), {"fields": ("state", "handling_unit", "assignee", "dispatcher", "dispatcher_unit", "due_at",
                                    "is_overdue", "result", "rating")}),
        (_("Timestamps"), {"fields": ("reported_at", "accepted_at", "dispatched_at", "taken_at", "resolved_at",
                                      "verified_at", "closed_at", "updated_at", "created_by", "migrated")}),
    )

    def get_fieldsets(self, request, obj=None):
        if can_view_personal_data(request.user):
            if obj is not None and obj.reporter_phone:
                full_view(request, obj=obj, detail="admin reporter_phone")  # audited
            return self.fieldsets
        return [
            (name, {**options, "fields": tuple("reporter_phone_masked" if f == "reporter_phone" else f
                                               for f in options["fields"])})
            for name, options in self.fieldsets
        ]

    @admin.display(description=_("reporter's phone"))
    def reporter_phone_masked(self, obj):
        return mask_phone(obj.reporter_phone)

    def has_change_permission(self, request, obj=None):
        # A case moves through the loop (the portal's case pages, each step on its timeline); nobody,
        # an administrator neither, edits its text here, outside the loop.
        return False

    def has_add_permission(self, request):
        return False  # reported on the portal's "new case" page (numbering, duplicates, idempotency)

    def may_import_roster(self, request) -> bool:
        # No add form here; bringing in an old system's cases is the administrators' job.
        user = request.user
        return user.is_superuser or (user.role == Role.ADMIN and user.has_perm("grid.add_case"))

    def has_delete_permission(self, request, obj=None):
        return False  # case numbers are never reused


@admin.register(Mediation)
class MediationAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Mediation sessions of dispute cases."""

    list_display = ("case", "held_on", "mediator", "room", "outcome")
    list_select_related = ("case",)
    list_filter = ("outcome", TownshipFilter)
    search_fields = ("=case__number", "mediator", "room")
    date_hierarchy = "held_on"
    autocomplete_fields = ("case",)
    fields = ("case", "held_on", "mediator", "room", "outcome", "notes", "recorded_by")
    readonly_fields = ("recorded_by",)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.recorded_by = request.user
        super().save_model(request, obj, form, change)


# --- Open311 clients ---------------------------------------------------------------------------


def open311_key_issue(client: Open311Client) -> str:
    """Give ``client`` a new random key: only its hash and first 8 characters are kept; returns the key."""
    key = secrets.token_urlsafe(32)
    client.key_hash = open311_key_hash(key)
    client.key_prefix = key[:8]
    return key


@admin.register(Open311Client)
class Open311ClientAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Civic-reporting clients of the Open311 API. The key is shown once, when issued."""

    list_display = ("name", "user", "key_prefix_shown", "per_minute", "is_active", "created_at")
    list_select_related = ("user",)
    list_filter = ("is_active",)
    search_fields = ("name", "key_prefix")
    fields = ("name", "user", "per_minute", "is_active", "key_prefix", "created_at")
    readonly_fields = ("key_prefix", "created_at")
    actions = ("issue_new_key",)

    @admin.display(description=_("key starts with"), ordering="key_prefix")
    def key_prefix_shown(self, obj):
        return format_html("<code>{}…</code>", obj.key_prefix)

    def save_model(self, request, obj, form, change):
        if not change:
            obj._issued_key = open311_key_issue(obj)
        super().save_model(request, obj, form, change)

    def response_add(self, request, obj, post_url_continue=None):
        key = getattr(obj, "_issued_key", None)
        if key is None:
            return super().response_add(request, obj, post_url_continue)
        return self._key_page(request, [(obj, key)])

    @admin.action(description=_("Issue a new key (the old one stops working)"), permissions=["change"])
    def issue_new_key(self, request, queryset):
        issued = []
        for client in queryset:
            key = open311_key_issue(client)
            client.save(update_fields=["key_hash", "key_prefix"])
            issued.append((client, key))
        return self._key_page(request, issued)

    def _key_page(self, request, issued):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": ngettext("The new Open311 key", "The new Open311 keys", len(issued)),
            "issued": issued,
            "changelist_url": _changelist_url(self.model),
            "warning": gettext("Copy the key now and give it to the client's operator: it is shown only this once. "
                               "Only its fingerprint is stored; a lost key is replaced by issuing a new one."),
        }
        response = TemplateResponse(request, KEY_TEMPLATE, context)
        # The page holds a secret: no browser or proxy may keep it.
        response["Cache-Control"] = "no-store"
        return response


def _changelist_url(model) -> str:
    from django.urls import reverse

    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")

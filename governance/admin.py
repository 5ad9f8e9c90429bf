"""Admin of the org chain. Everything a user reaches here is limited to his org subtree
(``governance.portal.admin.ScopedAdminMixin``, the admin's one scope rule).

The OrgUnit admin writes through ``governance.services`` so that the level and code rules and
the tree lock always apply; it also takes the official division list (``governance.divisions``).
An administrator keeps his county's local names here (``LocalName``, ``governance.terms``).
"""

from django import forms
from django.apps import apps
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.forms import CheckboxSelectMultiple
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils import translation
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from mptt.admin import MPTTModelAdmin

from governance.audit.reveal import full_view
from governance.divisions import county_code_or_error, divisions_import
from governance.masking import can_view_personal_data
from governance.models import LOCAL_NAME_LEVELS, Household, Level, LocalName, OrgUnit, Resident, Role, Tag
from governance.portal.admin import (
    GridFilter,
    PersonalDataMixin,
    ScopedAdminMixin,
    ServiceWriteAdminMixin,
    TownshipFilter,
    VillageFilter,
    sees_everything,
)
from governance.portal.guard import parse_id
from governance.rosters.admin import RosterAdminMixin
from governance.services import orgunit_create, orgunit_delete, orgunit_update
from governance.terms import all_vocabularies, fold, get_vocabulary

admin.site.site_header = _("Yiwang system administration")
admin.site.site_title = _("Yiwang system administration")
admin.site.index_title = _("Rosters and org chain")

# Tokens and second-factor secrets are not shown in lists: an administrator revokes a user's token and
# removes his second factor with the user list's actions (the rules in governance.portal.auth).
for _model in (apps.get_model("authtoken", "TokenProxy"), apps.get_model("otp_totp", "TOTPDevice")):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)

if apps.is_installed("axes"):
    # django-axes names its admin section by its label ("Axes"), which no catalogue can translate.
    apps.get_app_config("axes").verbose_name = _("Login protection")


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


# The query parameter that lists the units opened in the tree ("12,40,41").
TREE_OPEN = "open"
# Parameters that keep the change list a tree; a search, a filter or a sort make it a flat list.
TREE_PARAMS = {"p", TREE_OPEN}
# How far up a flat list's "path" column reaches (a micro-grid's county is four levels up).
PATH_DEPTH = 4


def _pks(value: str) -> set[int]:
    return {pk for pk in map(parse_id, value.split(",")) if pk is not None}


class OrgTreeChangeList(ChangeList):
    """The org units as a collapsible tree, one level at a time.

    Without a search, filter or sort the list shows the top of the user's subtree (his home unit,
    or the roots for the system operator) with its children, and the children of the units
    opened in the ``open`` parameter (each opened unit's parent must be shown too, so a stale
    parameter cannot show a branch out of place). A row knows whether it has children from its
    own nested-set range, so the page costs the same few queries however large the county is.
    With a search or filter it is a flat list whose rows show their path (county › township ›
    village).
    """

    def __init__(self, request, *args, **kwargs):
        # Only the page is a tree: an export of the unfiltered list (same parameters) is every unit.
        on_page = getattr(request.resolver_match, "url_name", None) == "governance_orgunit_changelist"
        self.tree = on_page and not (set(request.GET) - TREE_PARAMS)
        self.tops, self.opened, self.top_depth = set(), set(), 0
        if self.tree:
            self._read_tree(request, _pks(request.GET.get(TREE_OPEN, "")))
        super().__init__(request, *args, **kwargs)

    def _read_tree(self, request, asked: set[int]):
        user = request.user
        top = Q(pk=user.home_unit_id) if user.home_unit_id else Q(parent__isnull=True)
        # One query: the tops and the units asked open that lie in scope.
        rows = list(OrgUnit.objects.visible_to(user).filter(top | Q(pk__in=asked))
                    .values_list("pk", "parent_id", "mptt_level", "lft", "rght", "tree_id"))
        top_rows = [row for row in rows if (row[0] == user.home_unit_id if user.home_unit_id else row[1] is None)]
        self.tops = {row[0] for row in top_rows}
        self.top_depth = min((row[2] for row in top_rows), default=0)
        parents = {row[0]: row[1] for row in rows if row[0] not in self.tops}
        opened, grew = set(self.tops), True
        while grew:
            grew = False
            for pk, parent in list(parents.items()):
                if parent in opened:
                    opened.add(pk)
                    del parents[pk]
                    grew = True
        self.opened = opened

    def get_filters_params(self, params=None):
        lookup_params = super().get_filters_params(params)
        lookup_params.pop(TREE_OPEN, None)
        return lookup_params

    def get_queryset(self, request, exclude_parameters=None):
        queryset = super().get_queryset(request, exclude_parameters)
        if self.tree:
            queryset = queryset.filter(Q(pk__in=self.tops) | Q(parent_id__in=self.opened))
        else:
            queryset = queryset.select_related("__".join(["parent"] * PATH_DEPTH))
        return queryset

    def get_results(self, request):
        super().get_results(request)
        if self.tree:
            # The closed branches are not "filtered out": the tree holds every unit.
            self.full_result_count = self.result_count
        self.result_list = list(self.result_list)
        for unit in self.result_list:
            unit.tree_row = self._tree_row(unit) if self.tree else None

    def _tree_row(self, unit) -> dict:
        has_children = unit.rght - unit.lft > 1
        is_open = unit.pk in self.opened
        url = None
        if has_children and unit.pk not in self.tops:
            shown = (self.opened - self.tops - {unit.pk}) if is_open else (self.opened - self.tops) | {unit.pk}
            url = self.get_query_string({TREE_OPEN: ",".join(str(pk) for pk in sorted(shown))}, remove=["p"])
            if not shown:
                url = self.get_query_string(remove=[TREE_OPEN, "p"])
        return {"depth": unit.mptt_level - self.top_depth, "has_children": has_children, "open": is_open,
                "toggle_url": url}


@admin.register(OrgUnit)
class OrgUnitAdmin(ServiceWriteAdminMixin, RosterAdminMixin, ScopedAdminMixin, MPTTModelAdmin):
    """The org tree, collapsible (``OrgTreeChangeList``). Units move by changing their parent (and
    code) in the form: a drag-and-drop move could not also change the code, which the rules tie to
    the parent. Grids and micro-grids (which the official division list does not have) are also
    imported and exported as a roster (``roster_kind``).
    """

    roster_kind = "grids"
    bulk_delete = False  # it would bypass orgunit_delete's rules; units are deleted one at a time
    change_list_template = "admin/governance/orgunit/change_list.html"
    list_display = ("tree_name", "code", "short_name", "level", "kind", "is_active")
    list_display_links = ("code",)
    list_filter = ("level", "kind", "is_active", TownshipFilter)
    search_fields = ("code", "name", "short_name")
    autocomplete_fields = ("parent",)
    fields = ORGUNIT_FIELDS
    list_per_page = 200

    def get_changelist(self, request, **kwargs):
        return OrgTreeChangeList

    def get_list_display(self, request):
        if set(request.GET) - TREE_PARAMS:
            return ("tree_name", "path", *self.list_display[1:])
        return self.list_display

    @admin.display(description=_("name"), ordering="name")
    def tree_name(self, obj):
        change_url = reverse("admin:governance_orgunit_change", args=[obj.pk], current_app=self.admin_site.name)
        row = getattr(obj, "tree_row", None)
        if row is None:
            return format_html('<a href="{}">{}</a>', change_url, obj.name)
        if row["toggle_url"]:
            toggle = format_html(
                '<a class="tree-toggle" href="{}" aria-expanded="{}" title="{}">{}</a>',
                row["toggle_url"], "true" if row["open"] else "false",
                gettext("Collapse") if row["open"] else gettext("Expand"), "▾" if row["open"] else "▸",
            )
        elif row["has_children"]:
            toggle = format_html('<span class="tree-toggle" aria-hidden="true">{}</span>', "▾")
        else:
            toggle = format_html('<span class="tree-toggle" aria-hidden="true">{}</span>', "·")
        return format_html(
            '<span class="tree-node" style="padding-left:{}em" id="unit-{}">{} <a href="{}">{}</a></span>',
            row["depth"] * 1.5, obj.pk, toggle, change_url, obj.name,
        )

    @admin.display(description=_("parent units"))
    def path(self, obj):
        ancestors, unit = [], obj.parent
        for _step in range(PATH_DEPTH):
            if unit is None:
                break
            ancestors.append(unit.name)
            unit = unit.parent
        return format_html_join(" › ", "{}", ((name,) for name in reversed(ancestors)))

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
        # The importer decides itself who may import (administrators) and says so to anyone else.
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

    def save_model(self, request, obj, form, change):
        if change:
            changed = {name: getattr(obj, name) for name in form.changed_data if name in ORGUNIT_FIELDS}
            unit = orgunit_update(unit=obj, **changed)
        else:
            unit = orgunit_create(**{name: getattr(obj, name) for name in ORGUNIT_FIELDS})
        self.became(obj, unit)

    def delete_model(self, request, obj):
        orgunit_delete(unit=obj)

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
            return HttpResponseRedirect(
                reverse("admin:governance_orgunit_change", args=[object_id], current_app=self.admin_site.name)
            )


# --- The official division list, uploaded (governance.divisions) ----------------------------

ADMIN_MAX_UPLOAD = 64 * 1024 * 1024
ADMIN_TEMPLATE = "admin/governance/orgunit/import_divisions.html"
ADMIN_REJECTED_SHOWN = 1000


def import_permission_error(user, county: str | None) -> str | None:
    """Why ``user`` may not import ``county`` (12 digits or None), or None if he may.

    A superuser may import anything. Otherwise the user must have the administrator role and
    the county (or, for a county not yet in the tree, its city) must lie in his scope; he
    must name the county, so one upload never reaches beyond it.
    """
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return gettext("Only administrators may import division codes.")
    if user.is_superuser:
        return None
    if user.role != Role.ADMIN:
        return gettext("Only administrators may import division codes.")
    if not county:
        return gettext("Enter the code of the county to import: it must lie within your scope.")
    visible = OrgUnit.objects.visible_to(user)
    city = county[:4] + "0" * 8
    if visible.filter(code=county).exists() or visible.filter(code=city, level=Level.CITY).exists():
        return None
    return gettext("County %(code)s is outside your scope.") % {"code": county}


class DivisionImportForm(forms.Form):
    file = forms.FileField(
        label=_("Division code list (CSV)"),
        help_text=_("Columns code and name (or 统计用区划代码 and 名称); UTF-8 or GB18030."),
    )
    county = forms.CharField(
        label=_("County code"),
        required=False,
        max_length=12,
        help_text=_("6 or 12 digits. Imports only this county from a province-wide file."),
    )
    preview = forms.BooleanField(label=_("Preview only (write nothing)"), required=False)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > ADMIN_MAX_UPLOAD:
            raise ValidationError(
                gettext("The file is larger than %(size)d MB.") % {"size": ADMIN_MAX_UPLOAD // (1024 * 1024)}
            )
        return upload

    def clean_county(self):
        value = self.cleaned_data.get("county", "").strip()
        return county_code_or_error(value) if value else None

    def clean(self):
        cleaned = super().clean()
        if self.user is not None and "county" in cleaned:
            message = import_permission_error(self.user, cleaned["county"])
            if message:
                self.add_error("county", message)
        return cleaned


def _url_or_none(name: str, **kwargs) -> str | None:
    try:
        return reverse(name, kwargs=kwargs or None)
    except NoReverseMatch:
        return None


def admin_import_view(model_admin, request):
    """The admin's "import division codes" page: upload form, then the import's report."""
    opts = model_admin.model._meta
    site = model_admin.admin_site
    context = {
        **site.each_context(request),
        "title": gettext("Import division codes"),
        "opts": opts,
        "app_list_url": _url_or_none(f"{site.name}:app_list", app_label=opts.app_label),
        "changelist_url": _url_or_none(f"{site.name}:{opts.app_label}_{opts.model_name}_changelist"),
        "rejected_shown": ADMIN_REJECTED_SHOWN,
    }
    user = request.user
    if not user.is_superuser and getattr(user, "role", None) != Role.ADMIN:
        context["refusal"] = gettext("Only administrators may import division codes.")
        return TemplateResponse(request, ADMIN_TEMPLATE, context, status=403)

    if request.method == "POST":
        form = DivisionImportForm(request.POST, request.FILES, user=user)
        if form.is_valid():
            report = divisions_import(
                file=form.cleaned_data["file"],
                county=form.cleaned_data["county"],
                dry_run=form.cleaned_data["preview"],
                user=user,
            )
            context["report"] = report
            context["rejected_hidden"] = max(0, len(report.rejected) - ADMIN_REJECTED_SHOWN)
    else:
        form = DivisionImportForm(user=user)
    context["form"] = form
    return TemplateResponse(request, ADMIN_TEMPLATE, context)


# --- Households and residents -------------------------------------------------------------


class ResidentInline(ScopedAdminMixin, PersonalDataMixin, admin.TabularInline):
    model = Resident
    fields = ("name", "id_number", "phone", "relation", "is_active")
    extra = 0
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        # Adding a resident means typing an ID number, which a masked user enters on the resident form.
        return can_view_personal_data(request.user) and super().has_add_permission(request, obj)


@admin.register(Household)
class HouseholdAdmin(RosterAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
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
class ResidentAdmin(RosterAdminMixin, ScopedAdminMixin, PersonalDataMixin, admin.ModelAdmin):
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
        if full_view(request, detail="admin governance.Resident list"):
            return ["name", "id_number", "sex", "birth_date", "phone", "relation", "household", "grid"]
        return self.list_display

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "tags":
            kwargs["queryset"] = Tag.objects.filter(applies_to=Tag.AppliesTo.RESIDENT)
            kwargs["widget"] = CheckboxSelectMultiple
        return super().formfield_for_manytomany(db_field, request, **kwargs)


# --- Tags (the users' admin is governance.accounts.admin) ------------------------------------


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    """Tags are shared by the whole portal, so not scoped."""

    list_display = ("code", "name", "applies_to")
    list_filter = ("applies_to",)
    search_fields = ("code", "name")


# --- Local names (governance.terms) ---------------------------------------------------------
# Who keeps a county's local names: its administrators; the county's officials may read them (roles.py).


def _term_choices() -> list:
    return [
        (str(vocabulary.label), [(f"{vocabulary.key}:{code}", label) for code, label in vocabulary.labels().items()])
        for vocabulary in all_vocabularies()
    ]


class LocalNameForm(forms.ModelForm):
    """One local name: the county (or township), the term it renames (grouped by term list), the name."""

    term = forms.ChoiceField(label=_("Term"), help_text=_("The portal's own word for it."))

    class Meta:
        model = LocalName
        fields = ("unit", "term", "name")
        help_texts = {"name": _("The word the county uses: pages, exports and imports in the county use it.")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["term"].choices = [("", "---------"), *_term_choices()]
        if self.instance.pk:
            self.initial["term"] = f"{self.instance.vocabulary}:{self.instance.code}"

    def clean(self):
        cleaned = super().clean()
        term, unit = cleaned.get("term"), cleaned.get("unit")
        name = " ".join((cleaned.get("name") or "").split())
        if not term:
            return cleaned
        key, code = term.split(":", 1)
        self.instance.vocabulary, self.instance.code = key, code
        vocabulary = get_vocabulary(key)
        if name and vocabulary is not None:
            # A word that is another term's own label (in any language the portal speaks) would leave an
            # import guessing which one a cell means.
            for language in ("en", settings.LANGUAGE_CODE):
                with translation.override(language):
                    for other, label in vocabulary.labels().items():
                        if other != code and fold(label) == fold(name):
                            self.add_error("name", gettext('"%(name)s" is already the name of %(term)s.')
                                           % {"name": name, "term": label})
                            return cleaned
        if unit is not None and name:
            others = LocalName.objects.filter(unit=unit, vocabulary=key).exclude(pk=self.instance.pk)
            if others.filter(code=code).exists():
                self.add_error("term", gettext("%(unit)s already has a local name for this term.") % {"unit": unit})
            elif others.filter(name=name).exists():
                self.add_error("name", gettext('%(unit)s already uses "%(name)s" for another term.')
                               % {"unit": unit, "name": name})
        return cleaned


class TermListFilter(admin.SimpleListFilter):
    title = _("term list")
    parameter_name = "vocabulary"

    def lookups(self, request, model_admin):
        return [(vocabulary.key, vocabulary.label) for vocabulary in all_vocabularies()]

    def queryset(self, request, queryset):
        return queryset.filter(vocabulary=self.value()) if self.value() else queryset


@admin.register(LocalName)
class LocalNameAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """A county's own words for levels, grid-worker types and case categories (``governance.terms``)."""

    form = LocalNameForm
    list_display = ("unit", "term_list", "term_label", "name")
    list_select_related = ("unit",)
    list_filter = (TermListFilter,)
    search_fields = ("name", "code", "unit__name", "unit__code")
    autocomplete_fields = ("unit",)

    @admin.display(description=_("term list"))
    def term_list(self, obj):
        vocabulary = get_vocabulary(obj.vocabulary)
        return vocabulary.label if vocabulary is not None else obj.vocabulary

    @admin.display(description=_("term"), ordering="code")
    def term_label(self, obj):
        vocabulary = get_vocabulary(obj.vocabulary)
        labels = vocabulary.labels() if vocabulary is not None else {}
        return labels.get(obj.code, obj.code)

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        home = request.user.home_unit
        if home is not None and home.level in LOCAL_NAME_LEVELS:
            initial.setdefault("unit", home.pk)
        return initial

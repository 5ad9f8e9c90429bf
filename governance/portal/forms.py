"""The form bases every app builds on, one copy each: the scoped filter bar, the mixin that
styles a form and puts a service's ValidationError on it, and the portal's widgets."""

import json

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from governance.models import LEVEL_ORDER, Level, OrgUnit, Tag
from governance.portal.guard import parse_id
from governance.selectors import filter_choice_units, subtree_q

# The unit pickers of a filter bar, top down. Micro-grids are too many for a select.
FILTER_LEVELS = [Level.TOWNSHIP, Level.VILLAGE, Level.GRID]
FILTER_PLACEHOLDERS = {
    Level.TOWNSHIP: _("All townships"),
    Level.VILLAGE: _("All villages"),
    Level.GRID: _("All grids"),
}
FILTER_LABELS = {
    Level.TOWNSHIP: _("Township"),
    Level.VILLAGE: _("Village/community"),
    Level.GRID: _("Grid"),
}


def _depth(level: str) -> int:
    return LEVEL_ORDER.index(level)


class ScopedFilterForm(forms.Form):
    """A filter bar whose unit pickers offer only units inside the user's scope.

    The pickers cascade: a level's options are listed once the unit just above it is known
    (picked, or the user's home unit), which keeps every select short even for a city-wide
    user. A picked unit that no longer fits (out of scope, or under another township after
    the township changed) is dropped instead of raising an error: these values come from
    our own selects, so a stale one only means "not filtered".
    """

    #: Path from the listed model to its OrgUnit (e.g. "grid", "household__grid").
    unit_path = ""
    tag_applies_to = ""
    #: The bar offers a tag filter only where the listed rows carry tags.
    with_tags = True
    #: The deepest unit picker: records kept by a village or community have no grid picker.
    lowest_level = Level.GRID

    q = forms.CharField(label=_("Keyword"), required=False, max_length=100)
    tag = forms.ChoiceField(label=_("Tag"), required=False)

    def __init__(self, data=None, *, user, **kwargs):
        data = data.copy() if data is not None else None
        super().__init__(data, **kwargs)
        self.user = user
        self.selected_unit: OrgUnit | None = None
        self.unit_fields: list[str] = []
        self._build_unit_fields(data)
        if self.with_tags:
            tags = Tag.objects.filter(applies_to=self.tag_applies_to).values_list("code", "name")
            self.fields["tag"].choices = [("", _("All tags")), *tags]
        else:
            del self.fields["tag"]
        # Filters first in the order the eye reads them: units, tag, then the search box.
        self.order_fields([*self.unit_fields, "tag"] if self.with_tags else self.unit_fields)

    def _build_unit_fields(self, data):
        home = getattr(self.user, "home_unit", None)
        anchor = home
        for level in FILTER_LEVELS[:FILTER_LEVELS.index(self.lowest_level) + 1]:
            if home is not None and _depth(home.level) >= _depth(level):
                continue  # the user's scope already fixes this level
            known_parent = anchor is not None and _depth(anchor.level) == _depth(level) - 1
            if known_parent:
                units = list(filter_choice_units(fetched_by=self.user, level=level, within=anchor))
            elif anchor is None and level == Level.TOWNSHIP:
                units = list(filter_choice_units(fetched_by=self.user, level=level))
            else:
                units = []
            placeholder = FILTER_PLACEHOLDERS[level] if units or not self.unit_fields else _("Choose above first")
            field = forms.ChoiceField(
                label=FILTER_LABELS[level],
                required=False,
                choices=[("", placeholder)] + [(u.code, u.display_name) for u in units],
            )
            field.disabled = not units
            self.fields[level] = field
            self.unit_fields.append(level)
            picked = next((u for u in units if data is not None and u.code == data.get(level)), None)
            if picked is not None:
                anchor = picked
                self.selected_unit = picked
            elif data is not None and level in data:
                # Stale or foreign: forget it, and every picker below it.
                data[level] = ""

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        if not self.is_bound:
            return queryset
        self.is_valid()  # cleaned_data then holds the valid fields; invalid ones do not filter
        data = self.cleaned_data
        if self.selected_unit is not None:
            queryset = queryset.filter(subtree_q(self.selected_unit, self.unit_path))
        if data.get("tag"):
            queryset = queryset.filter(tags__code=data["tag"])
        if data.get("q"):
            queryset = self.search(queryset, data["q"].strip())
        return queryset

    def search(self, queryset: QuerySet, text: str) -> QuerySet:
        raise NotImplementedError

    @property
    def is_filtered(self) -> bool:
        return self.is_bound and any(self.data.get(name) for name in self.fields)


def style_widget(widget: forms.Widget) -> None:
    """Give a widget Bootstrap's small control classes (kept once, next to any it already has).

    Radio buttons and check boxes in a list are styled by the CSS on their wrapper, and
    hidden inputs need nothing.
    """
    if isinstance(widget, forms.RadioSelect | forms.HiddenInput):  # CheckboxSelectMultiple is a RadioSelect
        return
    if isinstance(widget, forms.CheckboxInput):
        css = "form-check-input"
    elif isinstance(widget, forms.Select):
        css = "form-select form-select-sm"
    else:
        css = "form-control form-control-sm"
    classes = widget.attrs.get("class", "").split()
    widget.attrs["class"] = " ".join([*classes, *(c for c in css.split() if c not in classes)])


class PortalFormMixin:
    """A portal form: Bootstrap's small controls, and a service's ValidationError put on the form.

    ``add_service_error`` puts each message on its field when the form shows it, else at the top
    (the summary). A field whose widget is replaced after ``__init__`` is styled with ``style_widget``.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            style_widget(field.widget)

    def add_service_error(self, error: ValidationError) -> None:
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        for field, errors in error.error_dict.items():
            self.add_error(field if field in self.fields else None, errors)


# --- Widgets -------------------------------------------------------------------------------


class SearchSelect(forms.Select):
    """A select filled by searching on the server (htmx), for choices too many to list.

    It renders only the chosen option; typing in the search box above it asks ``search_url``
    for at most a page of matching options (still limited to the user's scope there, and
    checked again by the form field on submit).
    """

    template_name = "portal/widgets/search_select.html"

    def __init__(self, *, search_url: str, placeholder="", include: str = "", params=None, attrs=None):
        super().__init__(attrs)
        self.search_url = search_url
        self.placeholder = placeholder
        self.include = include  # a CSS selector of other fields the search depends on
        self.params = dict(params or {})  # fixed query parameters of the search

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"].update(
            search_url=reverse(self.search_url),
            placeholder=self.placeholder,
            include=self.include,
            params=json.dumps({key: str(value) for key, value in self.params.items()}),
            has_value=any(v for v in context["widget"]["value"]),
        )
        return context

    def render(self, name, value, attrs=None, renderer=None):
        # The project's template engine (the form renderer only knows Django's own widget templates).
        return mark_safe(render_to_string(self.template_name, self.get_context(name, value, attrs)))

    def optgroups(self, name, value, attrs=None):
        chosen = [pk for pk in map(parse_id, value) if pk is not None]
        options = [("", _("— choose —"))]
        if chosen and hasattr(self.choices, "queryset"):
            field = self.choices.field
            options += [(row.pk, field.label_from_instance(row)) for row in self.choices.queryset.filter(pk__in=chosen)]
        groups = []
        for index, (option_value, label) in enumerate(options):
            selected = str(option_value) in value if option_value != "" else not chosen
            groups.append((None, [self.create_option(name, option_value, label, selected, index)], index))
        return groups


class DateInput(forms.DateInput):
    """The browser's date picker; the value in ISO format, which it expects."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (at most ``max_files``); ``check`` (e.g. grid's ``attachment_check``: images
    and PDF by their content) runs on each before anything is saved, its refusal shown on the field."""

    widget = MultipleFileInput

    def __init__(self, *args, check=None, max_files: int = 10, **kwargs):
        self.check, self.max_files = check, max_files
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if not data:
            if self.required:
                raise ValidationError(self.error_messages["required"], code="required")
            return []
        files = data if isinstance(data, list | tuple) else [data]
        if len(files) > self.max_files:
            raise ValidationError(_("At most %(count)d files at a time.") % {"count": self.max_files})
        cleaned = [super(MultipleFileField, self).clean(upload, initial) for upload in files]
        for upload in cleaned:
            if self.check is not None:
                try:
                    self.check(upload)
                except ValidationError as error:
                    raise ValidationError(error.messages) from None
        return cleaned

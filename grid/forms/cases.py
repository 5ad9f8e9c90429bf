"""Forms of the case pages: the list's filters, the new-case form and the small form of each step.

Choices are limited to the user's area (grids, households, residents, units, people); the
rules of the loop (who may take which step, where a case may go) stay in
``grid.services.cases``, whose ValidationError the views show on these forms.
"""

import uuid

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from governance.models import Household, OrgUnit, Resident, Role, User
from governance.portal.forms import (
    DateInput,
    MultipleFileField,
    PortalFormMixin,
    ScopedFilterForm,
    SearchSelect,
    style_widget,
)
from governance.portal.guard import parse_id
from governance.validators import normalize_id_number
from grid.models import Case, CaseCategory, CaseSource, CaseState, Colour, Rating, Triage
from grid.selectors.cases import CASE_GRID_LEVELS, dispatch_groups, unit_staff
from grid.services.cases import DISPATCH_LEVELS, attachment_check


def category_choices(*, blank=None, leaves_only: bool = True) -> list:
    """Active categories as select choices, one optgroup per top category (one query).

    With ``leaves_only`` a top category with sub-categories is a group label only (a case takes
    a sub-category); a top category without any ("其他") is offered as itself.
    """
    rows = list(CaseCategory.objects.filter(is_active=True).select_related("parent").order_by("sort_order", "code"))
    tops = [row for row in rows if row.parent_id is None]
    children: dict[int, list[CaseCategory]] = {}
    for row in rows:
        if row.parent_id is not None and row.parent.is_active:
            children.setdefault(row.parent_id, []).append(row)
    choices = [("", blank or _("— choose —"))]
    singles = []
    for top in tops:
        kids = children.get(top.pk, [])
        if not kids:
            singles.append((top.pk, top.name))
            continue
        group = [(kid.pk, kid.name) for kid in kids]
        if not leaves_only:
            group.insert(0, (top.pk, _("All of %(name)s") % {"name": top.name}))
        choices.append((top.name, group))
    if singles:
        choices.append((_("Other categories"), singles))
    return choices


# --- The list's filters -------------------------------------------------------------------


class CaseFilterForm(PortalFormMixin, ScopedFilterForm):
    """Units (township → village → grid, in scope), state (the tabs), colour, category, triage,
    source, overdue, assigned to me, reported between two days, and a search box."""

    unit_path = "grid"
    with_tags = False

    state = forms.ChoiceField(label=_("State"), required=False, choices=[("", _("All")), *CaseState.choices])
    colour = forms.ChoiceField(label=_("Colour"), required=False, choices=[("", _("All colours")), *Colour.choices])
    category = forms.TypedChoiceField(label=_("Category"), required=False, coerce=int, empty_value=None)
    triage = forms.ChoiceField(label=_("Triage"), required=False, choices=[("", _("All")), *Triage.choices])
    source = forms.ChoiceField(label=_("Source"), required=False, choices=[("", _("All sources")), *CaseSource.choices])
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)
    mine = forms.BooleanField(label=_("Assigned to me"), required=False)
    reported_from = forms.DateField(label=_("Reported from"), required=False, widget=DateInput)
    reported_to = forms.DateField(label=_("to"), required=False, widget=DateInput)
    # What a dashboard figure opens (the records behind it): kept in the URL, not offered in the bar.
    accepted_from = forms.DateField(required=False, widget=forms.HiddenInput)
    accepted_to = forms.DateField(required=False, widget=forms.HiddenInput)
    resolved_from = forms.DateField(required=False, widget=forms.HiddenInput)
    resolved_to = forms.DateField(required=False, widget=forms.HiddenInput)
    closed_from = forms.DateField(required=False, widget=forms.HiddenInput)
    closed_to = forms.DateField(required=False, widget=forms.HiddenInput)
    overdue_on = forms.DateField(required=False, widget=forms.HiddenInput)
    rated_from = forms.DateField(required=False, widget=forms.HiddenInput)
    rated_to = forms.DateField(required=False, widget=forms.HiddenInput)
    rated = forms.BooleanField(required=False, widget=forms.HiddenInput)

    select_fields = ["colour", "category", "triage", "source"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = category_choices(blank=_("All categories"), leaves_only=False)
        self.fields["q"].widget.attrs["placeholder"] = _("Number, title or description")
        self.order_fields([*self.unit_fields, *self.select_fields, "reported_from", "reported_to", "overdue", "mine",
                           "q", "state"])

    def filter_queryset(self, queryset):  # the list reads through selectors.case_list instead
        raise NotImplementedError

    @property
    def filters(self) -> dict:
        """The valid filters as ``selectors.filter_cases`` takes them (invalid values do not filter)."""
        if not self.is_bound:
            return {}
        self.is_valid()
        data = dict(self.cleaned_data)
        data.pop("tag", None)
        category = data.pop("category", None)
        if category is not None:
            data["category"] = CaseCategory(pk=category)
        data["unit"] = self.selected_unit
        return {key: value for key, value in data.items() if value not in (None, "", False)}

    @property
    def is_filtered(self) -> bool:
        return self.is_bound and any(self.data.get(name) for name in self.fields if name != "state")


# --- New case ------------------------------------------------------------------------------


def looks_like_id(value) -> bool:
    """Whether a submitted value can be a row's id (ids are bigints): anything else is never looked up."""
    return parse_id(value) is not None


class IdChoiceField(forms.ModelChoiceField):
    """A row by id; a value that cannot be an id is an invalid choice (never sent to the database)."""

    def to_python(self, value):
        if value not in self.empty_values and not looks_like_id(value):
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)


class GridChoiceField(IdChoiceField):
    def label_from_instance(self, unit):
        parent = unit.parent.display_name if unit.parent_id else ""
        return f"{unit.display_name}（{parent}）" if parent else unit.display_name


# Where a case entered by each role most likely comes from (the form's default source).
ROLE_SOURCES = {
    Role.GRID: CaseSource.GRID_WORKER,
    Role.VILLAGE: CaseSource.VISIT,
    Role.TOWNSHIP: CaseSource.VISIT,
    Role.COUNTY: CaseSource.HOTLINE,
    Role.ADMIN: CaseSource.VISIT,
}


class CaseForm(PortalFormMixin, forms.Form):
    """Report a case. ``token`` makes the form idempotent: sent twice, it creates one case."""

    title = forms.CharField(label=_("Title"), max_length=200)
    category = forms.TypedChoiceField(label=_("Category"), coerce=int)
    grid = GridChoiceField(label=_("Grid / micro-grid"), queryset=OrgUnit.objects.none())
    description = forms.CharField(label=_("What happened"), max_length=Case._meta.get_field("description").max_length,
                                  widget=forms.Textarea(attrs={"rows": 4}))
    colour = forms.ChoiceField(label=_("Colour"), choices=Colour.choices, initial=Colour.GREEN,
                               widget=forms.RadioSelect)
    source = forms.ChoiceField(label=_("Source"), choices=CaseSource.choices, initial=CaseSource.VISIT)
    triage = forms.ChoiceField(label=_("Triage"), required=False,
                               choices=[("", _("Not yet (at acceptance)")), *Triage.choices])
    household = forms.CharField(label=_("Household number"), required=False, max_length=40)
    reporter_id_number = forms.CharField(label=_("Reporter's ID number"), required=False, max_length=18,
                                         help_text=_("Optional: links the case to a resident of your area."))
    reporter_name = forms.CharField(label=_("Reporter"), required=False, max_length=50)
    reporter_phone = forms.CharField(label=_("Reporter's phone"), required=False, max_length=20)
    address = forms.CharField(label=_("Address"), required=False, max_length=200)
    latitude = forms.DecimalField(label=_("Latitude"), required=False, max_digits=9, decimal_places=6,
                                  min_value=-90, max_value=90)
    longitude = forms.DecimalField(label=_("Longitude"), required=False, max_digits=9, decimal_places=6,
                                   min_value=-180, max_value=180)
    attachments = MultipleFileField(label=_("Photos and documents"), required=False, check=attachment_check,
                                    help_text=_("Images (JPEG, PNG, GIF, WebP) or PDF, several at once."))
    token = forms.UUIDField(widget=forms.HiddenInput)
    confirm = forms.BooleanField(label=_("Create it anyway"), required=False)

    def __init__(self, data=None, *args, user, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("token", uuid.uuid4())
        if data is not None and data.get("grid") and not looks_like_id(data["grid"]):
            data = data.copy()
            data["grid"] = ""  # never looked up (nor shown as chosen): ids are bigints
        super().__init__(data, *args, **kwargs)
        self.user = user
        self.fields["source"].initial = ROLE_SOURCES.get(user.role, CaseSource.VISIT)
        self.fields["category"].choices = category_choices()
        self.fields["grid"].queryset = (
            OrgUnit.objects.visible_to(user).filter(level__in=CASE_GRID_LEVELS, is_active=True)
            .select_related("parent")
        )
        grid_picker = SearchSelect(search_url="grid:grid-search", placeholder=_("Type a grid's name or code"))
        grid_picker.choices = self.fields["grid"].choices
        style_widget(grid_picker)
        self.fields["grid"].widget = grid_picker
        self.fields["title"].widget.attrs.update(autofocus=True, autocomplete="off")
        self.fields["attachments"].widget.attrs["accept"] = "image/jpeg,image/png,image/gif,image/webp,application/pdf"
        self.fields["reporter_phone"].widget.attrs["inputmode"] = "tel"
        self.duplicates = []

    def clean_category(self):
        pk = self.cleaned_data["category"]
        category = CaseCategory.objects.filter(pk=pk, is_active=True).first()
        if category is None:
            raise ValidationError(_("Choose a category."))
        return category

    def clean_household(self):
        number = self.cleaned_data["household"].strip()
        if not number:
            return None
        household = Household.objects.visible_to(self.user).filter(number=number).first()
        if household is None:
            raise ValidationError(_("No household %(number)s in your area.") % {"number": number})
        return household

    def clean_reporter_id_number(self):
        value = normalize_id_number(self.cleaned_data["reporter_id_number"] or "")
        if not value:
            return None
        resident = Resident.objects.visible_to(self.user).filter(id_number=value).first()
        if resident is None:
            raise ValidationError(_("No resident of your area has this ID number."))
        return resident

    def clean(self):
        data = super().clean()
        household, grid = data.get("household"), data.get("grid")
        if household is not None and grid is not None and household.grid_id != grid.pk:
            self.add_error("household", _("The household is not in this grid."))
        if data.get("reporter_id_number") is not None:
            resident = data["reporter_id_number"]
            data["reporter_name"] = data.get("reporter_name") or resident.name
            data["reporter_phone"] = data.get("reporter_phone") or resident.phone
        return data

    def case_fields(self) -> dict:
        """The keyword arguments of ``case_create`` (besides the user, token and files)."""
        data = self.cleaned_data
        return {
            "title": data["title"], "description": data["description"], "category": data["category"],
            "grid": data["grid"], "source": data["source"], "colour": data["colour"], "triage": data["triage"] or "",
            "household": data["household"], "reporter": data["reporter_id_number"],
            "reporter_name": data["reporter_name"], "reporter_phone": data["reporter_phone"],
            "address": data["address"], "latitude": data["latitude"], "longitude": data["longitude"],
        }


# --- The steps -----------------------------------------------------------------------------


class StepForm(PortalFormMixin, forms.Form):
    """A step's form; ``arguments()`` are the service's keyword arguments besides case and user."""

    def __init__(self, *args, case, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.case = case
        self.user = user

    def arguments(self) -> dict:
        return dict(self.cleaned_data)


class CommentForm(StepForm):
    comment = forms.CharField(label=_("Comment"), required=False, max_length=2000,
                              widget=forms.Textarea(attrs={"rows": 2}))


class ReasonForm(StepForm):
    """A step that needs a reason; each step names its own (two forms on one page never read alike)."""

    reason_label = _("Reason")
    reason = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 2}),
                             error_messages={"required": _("Say why.")})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].label = self.reason_label


class RejectForm(ReasonForm):
    reason_label = _("Why it is not accepted")


class EscalateForm(ReasonForm):
    reason_label = _("Why it goes to the higher level")


class ReturnForm(ReasonForm):
    reason_label = _("What is still to be done")


class RecallForm(ReasonForm):
    reason_label = _("Why it is recalled")


class TakeForm(CommentForm):
    """接单; the button "take and start work" sends ``start`` (one click when nothing is entered in between)."""

    start = forms.BooleanField(required=False, widget=forms.HiddenInput)


class AcceptForm(StepForm):
    triage = forms.ChoiceField(label=_("Triage"), choices=[("", _("— choose —")), *Triage.choices],
                               error_messages={"required": _("Sort the case first (major, minor or private matter).")})
    colour = forms.ChoiceField(label=_("Colour"), choices=Colour.choices)
    comment = forms.CharField(label=_("Comment"), required=False, max_length=2000,
                              widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, case, **kwargs):
        kwargs.setdefault("initial", {}).update(colour=case.colour, triage=case.triage)
        super().__init__(*args, case=case, **kwargs)


class UnitChoiceField(IdChoiceField):
    def label_from_instance(self, unit):
        return unit.display_name


class DispatchForm(StepForm):
    unit = UnitChoiceField(label=_("To unit"), queryset=OrgUnit.objects.none())
    assignee = IdChoiceField(label=_("Person (optional)"), required=False, queryset=None,
                                      empty_label=_("Anyone of the unit"))
    comment = forms.CharField(label=pgettext_lazy("case", "Instructions"), required=False, max_length=2000,
                              widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, case, user, **kwargs):
        super().__init__(*args, case=case, user=user, **kwargs)
        levels = DISPATCH_LEVELS.get(case.triage, ())
        self.groups = dispatch_groups(fetched_by=user, case=case, levels=levels)
        self.units = [unit for group in self.groups for unit in group.units]
        unit_field = self.fields["unit"]
        unit_field.queryset = OrgUnit.objects.filter(pk__in=[unit.pk for unit in self.units])
        # The choices from the units already read (no second query to render the select): the place
        # where the case is first, then the rest of the area, one group per village or township.
        unit_field.choices = [("", _("— choose —"))] + [
            (group.label, [(unit.pk, unit_field.label_from_instance(unit)) for unit in group.units])
            for group in self.groups
        ]
        staff = User.objects.visible_to(user).filter(is_active=True)
        if case.handling_unit_id:
            staff = staff.filter(
                Q(home_unit__tree_id=case.handling_unit.tree_id, home_unit__lft__gte=case.handling_unit.lft,
                  home_unit__lft__lt=case.handling_unit.rght)
            )
        self.fields["assignee"].queryset = staff.select_related("home_unit")
        self.fields["assignee"].label_from_instance = person_label
        bound_unit = self.data.get(self.add_prefix("unit")) if self.is_bound else None
        picked = next((u for u in self.units if str(u.pk) == str(bound_unit)), None)
        # Only the chosen unit's people are listed (htmx reloads them when the unit changes).
        self.fields["assignee"].choices = [("", _("Anyone of the unit"))] + (
            [(person.pk, person_label(person)) for person in unit_staff(fetched_by=user, unit=picked)]
            if picked is not None else []
        )


def person_label(person) -> str:
    """A person by name (the login only when no name was entered), with the unit he works in."""
    name = person.display_name
    where = person.home_unit.display_name if person.home_unit_id else ""
    return f"{name} · {where}" if where else name


class ResolveForm(StepForm):
    result = forms.CharField(label=_("Result"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3}),
                             error_messages={"required": _("Describe the result.")})
    attachments = MultipleFileField(label=_("Evidence (photos, documents)"), required=False,
                                    check=attachment_check)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["attachments"].widget.attrs["accept"] = "image/jpeg,image/png,image/gif,image/webp,application/pdf"


class RateForm(StepForm):
    rating = forms.ChoiceField(label=_("Reporter's rating"), choices=Rating.choices, widget=forms.RadioSelect,
                               error_messages={"required": _("Choose the reporter's rating.")})
    comment = forms.CharField(label=_("Comment"), required=False, max_length=2000,
                              widget=forms.Textarea(attrs={"rows": 2}))


ACTION_FORMS: dict[str, type[StepForm]] = {
    "accept": AcceptForm,
    "reject": RejectForm,
    "dispatch": DispatchForm,
    "recall": RecallForm,
    "take": TakeForm,
    "start": CommentForm,
    "resolve": ResolveForm,
    "verify": CommentForm,
    "return": ReturnForm,
    "rate": RateForm,
    "close": CommentForm,
    "escalate": EscalateForm,
}


def action_form(action: str, *, case, user, data=None, files=None) -> StepForm:
    """The form of step ``action`` (fields prefixed with the action: several forms share a page)."""
    return ACTION_FORMS[action](data, files, case=case, user=user, prefix=action)

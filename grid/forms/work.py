"""Forms of the dispute mediation pages: the list's filters, a mediation record, the summary's period."""

import datetime

from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from governance.portal.forms import DateInput, PortalFormMixin, ScopedFilterForm
from grid.models import FINAL_STATES, Mediation, MediationOutcome
from grid.selectors.work import PERIOD_KINDS, dispute_categories

# A summary's date is a day people worked on: far-off years only break the period arithmetic.
SUMMARY_YEARS = (2000, 2100)


class MediationFilterForm(ScopedFilterForm):
    """Units (in scope), sub-category, open or closed, mediated or not, outcome, and a search box."""

    unit_path = "grid"
    with_tags = False

    category = forms.TypedChoiceField(label=_("Category"), required=False, coerce=int, empty_value=None)
    status = forms.ChoiceField(
        label=_("Status"), required=False,
        choices=[("", _("All")), ("open", _("Open")), ("closed", _("Closed"))],
    )
    mediated = forms.ChoiceField(
        label=_("Mediation"), required=False,
        choices=[("", _("All")), ("yes", _("Mediated")), ("no", _("Not mediated yet"))],
    )
    outcome = forms.ChoiceField(label=_("Outcome"), required=False,
                                choices=[("", _("All outcomes")), *MediationOutcome.choices])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        categories = dispute_categories().filter(parent__isnull=False).order_by("sort_order", "code")
        self.fields["category"].choices = [("", _("All categories")), *categories.values_list("pk", "name")]
        self.fields["q"].widget.attrs["placeholder"] = _("Number or title")
        self.order_fields([*self.unit_fields, "category", "status", "mediated", "outcome", "q"])

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if not self.is_bound:
            return queryset
        data = self.cleaned_data
        if data.get("category"):
            queryset = queryset.filter(category_id=data["category"])
        if data.get("status") == "open":
            queryset = queryset.exclude(state__in=FINAL_STATES)
        elif data.get("status") == "closed":
            queryset = queryset.filter(state__in=FINAL_STATES)
        if data.get("mediated") == "yes":
            queryset = queryset.filter(pk__in=Mediation.objects.values("case_id"))
        elif data.get("mediated") == "no":
            queryset = queryset.exclude(pk__in=Mediation.objects.values("case_id"))
        if data.get("outcome"):
            queryset = queryset.filter(pk__in=Mediation.objects.filter(outcome=data["outcome"]).values("case_id"))
        return queryset

    def search(self, queryset, text):
        return queryset.filter(Q(number__startswith=text) | Q(title__icontains=text))


class MediationForm(PortalFormMixin, forms.ModelForm):
    """调解记录: when, by whom, where, with what outcome."""

    class Meta:
        model = Mediation
        fields = ["held_on", "mediator", "room", "outcome", "notes"]
        widgets = {
            "held_on": DateInput,
            "notes": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "mediator": _("The mediators, e.g. the judge, prosecutor, police officer and lawyer of the team."),
        }

    def __init__(self, *args, rooms=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["outcome"].choices = [("", _("— choose —")), *MediationOutcome.choices]
        self.fields["room"].widget.attrs["list"] = "mediation-rooms"
        self.fields["room"].widget.attrs["autocomplete"] = "off"
        self.rooms = list(rooms)


class SummaryForm(forms.Form):
    """The period of a summary: a day (日分析), a week (周综述) or a month (月报告) holding ``date``."""

    period = forms.ChoiceField(choices=[(kind, kind) for kind in PERIOD_KINDS], required=False)
    date = forms.DateField(required=False, widget=DateInput)

    def clean_date(self):
        day = self.cleaned_data.get("date")
        if day is not None and not SUMMARY_YEARS[0] <= day.year <= SUMMARY_YEARS[1]:
            raise forms.ValidationError(_("Choose a date between %(first)d and %(last)d.")
                                        % {"first": SUMMARY_YEARS[0], "last": SUMMARY_YEARS[1]})
        return day

    def choice(self) -> tuple[str, datetime.date]:
        """The period kind and the date asked for; what is missing or wrong falls back to today's day."""
        kind, day = "day", timezone.localdate()
        if self.is_bound:
            self.is_valid()  # the valid fields are kept in cleaned_data, the others fall back
            kind = self.cleaned_data.get("period") or kind
            day = self.cleaned_data.get("date") or day
        return kind, day

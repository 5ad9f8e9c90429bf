"""Forms of the volunteer service records: the list's filter bar and one service of a member."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from governance.indicators.months import format_period, month_last_day, parse_period, shift_month, this_month
from governance.portal.forms import DateInput, PortalFormMixin
from partybuild.forms.common import CommunityChoiceField, CommunityFilterForm, TimeInput, scoped_communities
from partybuild.models import PartyMember, ServicePost, Wish


def recent_months(count: int = 24) -> list[tuple[str, str]]:
    """This month and the ``count - 1`` before it, newest first, as ``YYYY-MM`` choices."""
    months = (format_period(shift_month(this_month(), -n)) for n in range(count))
    return [(month, month) for month in months]


class ServiceRecordFilterForm(CommunityFilterForm):
    kind = forms.ChoiceField(
        label=_("Service kind"), required=False, choices=[("", _("All kinds")), *ServicePost.choices]
    )
    month = forms.ChoiceField(label=_("Month"), required=False)
    exact_filters = {"kind": "kind"}
    search_lookups = ("member__resident__name__icontains", "description__icontains")
    placeholder = _("Member name or description")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["month"].choices = [("", _("All months")), *recent_months()]

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        month = parse_period(self.cleaned_data.get("month")) if self.is_bound else None
        if month is not None:
            queryset = queryset.filter(date__range=(month, month_last_day(month)))
        return queryset


class ServiceRecordForm(PortalFormMixin, forms.Form):
    """One volunteer service of a member; hours and points are computed by the service."""

    community = CommunityChoiceField()
    date = forms.DateField(label=_("Date"), widget=DateInput)
    start_time = forms.TimeField(label=_("Start time"), widget=TimeInput)
    end_time = forms.TimeField(label=_("End time"), widget=TimeInput)
    kind = forms.ChoiceField(label=_("Service kind"), choices=ServicePost.choices)
    wish = forms.ModelChoiceField(
        label=_("Micro-wish"), required=False, queryset=Wish.objects.none(), empty_label=_("— none —")
    )
    description = forms.CharField(label=_("Description"), max_length=200, required=False)

    def __init__(self, *args, user, member: PartyMember, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = scoped_communities(user)
        # Only the wishes this member took can be linked to his service.
        self.fields["wish"].queryset = (
            Wish.objects.visible_to(user).filter(taken_by=member).order_by("-posted_at")
        )
        self.fields["date"].initial = timezone.localdate

    def clean(self):
        data = super().clean()
        start, end = data.get("start_time"), data.get("end_time")
        if start and end and end <= start:
            self.add_error("end_time", _("The end time must be after the start time."))
        return data

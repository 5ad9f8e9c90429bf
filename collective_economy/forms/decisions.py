"""Forms of the decisions pages: the list's filters, registering a matter, recording its next step (only
the fields that step asks for), the households' signatures of a consultation (民议), files of a step."""

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from collective_economy.forms.books import VillageChoiceField, parse_yuan
from collective_economy.models import VOTING_STEPS, Decision, DecisionRecord, DecisionState, Step
from collective_economy.services.common import money
from governance.models import Level, OrgUnit
from governance.portal.forms import DateInput, MultipleFileField, MultipleFileInput, PortalFormMixin, ScopedFilterForm

# Files one step takes at a time (a photographed notice, the signed minutes).
AMOUNT_HELP = _("Yuan; left blank when the matter involves no money.")


class DecisionFilterForm(ScopedFilterForm):
    """The list's filters: township and village (in scope), state, words of the number or matter."""

    unit_path = "village"
    with_tags = False
    lowest_level = Level.VILLAGE

    state = forms.ChoiceField(label=_("State"), required=False,
                              choices=[("", _("All states")), *DecisionState.choices])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs["placeholder"] = _("Number or matter")
        self.order_fields([*self.unit_fields, "state", "q"])

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if self.is_bound and self.cleaned_data.get("state"):
            queryset = queryset.filter(state=self.cleaned_data["state"])
        return queryset

    def search(self, queryset, text):
        return queryset.filter(Q(number__icontains=text) | Q(title__icontains=text))


class AmountField(forms.CharField):
    """Yuan as a clerk types it ("80,000.00"), to the fen; blank is no amount."""

    def clean(self, value):
        text = parse_yuan(super().clean(value))
        if not text:
            return None
        amount = money(text)
        if amount < 0:
            raise ValidationError(_("Enter an amount of zero or more."))
        return amount


class DecisionForm(PortalFormMixin, forms.Form):
    """A major matter as it is registered (the village, its number, what it is) or corrected while registered."""

    village = VillageChoiceField(label=_("Village/community"), queryset=OrgUnit.objects.none(),
                                 empty_label=_("— choose —"))
    number = forms.CharField(label=pgettext_lazy("decision", "Number"), max_length=40, required=False,
                             help_text=_("Left blank: the next number of the year, such as JC2026-001."))
    title = forms.CharField(label=_("Matter"), max_length=100,
                            widget=forms.TextInput(attrs={"placeholder": _("e.g. Hardening of the group 3 road")}))
    description = forms.CharField(label=pgettext_lazy("decision", "Description"),
                                  max_length=Decision._meta.get_field("description").max_length,
                                  widget=forms.Textarea(attrs={"rows": 4}),
                                  help_text=_("What is proposed, why, and how it is paid for."))
    amount = AmountField(label=_("Amount involved (yuan)"), required=False, help_text=AMOUNT_HELP,
                         widget=forms.TextInput(attrs={"inputmode": "decimal"}))

    def __init__(self, *args, user, decision: Decision | None = None, **kwargs):
        if decision is not None:
            kwargs.setdefault("initial", {"title": decision.title, "description": decision.description,
                                          "amount": f"{decision.amount:.2f}" if decision.amount is not None else ""})
        super().__init__(*args, **kwargs)
        self.decision = decision
        if decision is not None:
            # The village and the number are kept; only the wording and the amount are corrected.
            del self.fields["village"]
            del self.fields["number"]
            return
        villages = (OrgUnit.objects.visible_to(user).filter(level=Level.VILLAGE, is_active=True)
                    .select_related("parent").order_by("code"))
        self.fields["village"].queryset = villages
        home = getattr(user, "home_unit", None)
        if home is not None and home.level == Level.VILLAGE:
            self.fields["village"].initial = home.pk
            self.fields["village"].widget = forms.HiddenInput()


class StepForm(PortalFormMixin, forms.Form):
    """The next step of a decision, with the fields it asks for: a meeting that votes takes attendance and
    votes; the consultation's counts are its signatures; the last step takes the results."""

    step = forms.CharField(widget=forms.HiddenInput)
    held_on = forms.DateField(label=_("Date"), widget=DateInput())
    expected = forms.IntegerField(label=_("Expected to attend"), min_value=1, max_value=100000)
    attended = forms.IntegerField(label=_("Attended"), min_value=0, max_value=100000)
    votes_for = forms.IntegerField(label=_("Votes for"), min_value=0, max_value=100000)
    votes_against = forms.IntegerField(label=_("Votes against"), min_value=0, max_value=100000, required=False)
    abstentions = forms.IntegerField(label=_("Abstentions"), min_value=0, max_value=100000, required=False)
    minutes = forms.CharField(label=_("Minutes"), widget=forms.Textarea(attrs={"rows": 4}),
                              max_length=DecisionRecord._meta.get_field("minutes").max_length)
    result_summary = forms.CharField(label=_("Results"), widget=forms.Textarea(attrs={"rows": 4}),
                                     max_length=Decision._meta.get_field("result_summary").max_length,
                                     help_text=_("What was done with what money: published to the villagers."))
    attachments = MultipleFileField(label=_("Files (photos, PDF)"), required=False,
                                    widget=MultipleFileInput(attrs={"accept": "image/*,application/pdf"}))

    def __init__(self, *args, step: str, expected_hint: int | None = None, **kwargs):
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("held_on", timezone.localdate())
        kwargs["initial"]["step"] = step
        if expected_hint:
            kwargs["initial"].setdefault("expected", expected_hint)
        super().__init__(*args, **kwargs)
        self.step = step
        if step not in VOTING_STEPS:
            for name in ("expected", "attended", "votes_for", "votes_against", "abstentions"):
                del self.fields[name]
        if step != Step.RESULT:
            del self.fields["result_summary"]
        if step in (Step.PUBLICATION, Step.RESULT):
            self.fields["minutes"].label = _("What was published, where and for how long")
        elif step == Step.MOTION:
            self.fields["minutes"].label = _("The motion, and who made it")
        elif step == Step.CONSULTATION:
            self.fields["minutes"].label = _("How the households were consulted, and what they said")

    @property
    def is_voting(self) -> bool:
        return self.step in VOTING_STEPS

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        arguments = {"step": data["step"], "held_on": data["held_on"], "minutes": data["minutes"],
                     "files": data.get("attachments") or []}
        for name in ("expected", "attended", "votes_for", "votes_against", "abstentions", "result_summary"):
            if name in self.fields:
                arguments[name] = data.get(name)
        return arguments


class FileAddForm(PortalFormMixin, forms.Form):
    """More files of a step already recorded (the notice photographed once it is up)."""

    attachments = MultipleFileField(label=_("Files (photos, PDF)"),
                                    widget=MultipleFileInput(attrs={"accept": "image/*,application/pdf"}))


class SignForm(PortalFormMixin, forms.Form):
    """Households' signatures in the consultation (民议): the ticked ones, or every one not yet signed."""

    household = forms.ModelMultipleChoiceField(label=_("Households"), queryset=OrgUnit.objects.none(),
                                               required=False)
    everyone = forms.BooleanField(required=False)
    signed_on = forms.DateField(label=pgettext_lazy("decision", "Signed on"), widget=DateInput())
    agrees = forms.TypedChoiceField(label=_("Opinion"), coerce=lambda v: v == "1", initial="1",
                                    choices=[("1", _("Agrees")), ("0", _("Disagrees"))])

    def __init__(self, *args, households, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("signed_on", timezone.localdate())
        super().__init__(*args, **kwargs)
        self.fields["household"].queryset = households
        self.households = households

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("everyone") and not cleaned.get("household"):
            raise ValidationError(_("Tick the households that signed, or sign for every household."))
        return cleaned

    def chosen(self):
        if self.cleaned_data.get("everyone"):
            return self.households
        return self.cleaned_data["household"]

"""The trail page's filter bar: text, user, object, action, source, township and a date range."""

from django import forms
from django.utils.translation import gettext_lazy as _

from governance.audit import Action
from governance.models import Level, OrgUnit
from governance.models.audit import Source
from governance.portal.forms import DateInput


class TrailFilterForm(forms.Form):
    q = forms.CharField(label=_("Keyword"), required=False, max_length=100,
                        widget=forms.TextInput(attrs={"placeholder": _("user, object, text or address")}))
    user = forms.CharField(label=_("User"), required=False, max_length=150)
    obj = forms.CharField(label=_("Object"), required=False, max_length=120,
                          widget=forms.TextInput(attrs={"placeholder": "grid.Case:12"}))
    action = forms.ChoiceField(label=_("Action"), required=False)
    source = forms.ChoiceField(label=_("Source"), required=False)
    township = forms.ModelChoiceField(label=_("Township"), required=False, queryset=OrgUnit.objects.none(),
                                      empty_label=_("All townships"))
    date_from = forms.DateField(label=_("From"), required=False, widget=DateInput)
    date_to = forms.DateField(label=_("to"), required=False, widget=DateInput)

    def __init__(self, data=None, *, user, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["action"].choices = [("", _("All actions")), *Action.choices]
        self.fields["source"].choices = [("", _("All sources")), *Source.choices]
        townships = OrgUnit.objects.visible_to(user).filter(level=Level.TOWNSHIP)
        self.fields["township"].queryset = townships.order_by("code")
        for name, field in self.fields.items():
            select = isinstance(field, forms.ChoiceField)
            css = "form-select form-select-sm" if select else "form-control form-control-sm"
            field.widget.attrs.setdefault("class", css)
            field.widget.attrs.setdefault("id", f"id_{name}")

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end of the date range is before its start."))
        return cleaned

    def filters(self) -> dict:
        """The selector's keyword arguments; nothing filtered while the form has errors."""
        if not self.is_bound or not self.is_valid():
            return {}
        data = self.cleaned_data
        return {key: data[key] for key in ("q", "user", "obj", "action", "source", "township", "date_from", "date_to")
                if data.get(key)}

    @property
    def is_filtered(self) -> bool:
        return bool(self.filters())

from django import forms
from django.utils.translation import gettext_lazy as _


class CodeForm(forms.Form):
    """The six digits an authenticator app shows."""

    code = forms.RegexField(
        label=_("Code from your authenticator app"), regex=r"^\s*\d{6}\s*$", max_length=12,
        error_messages={"invalid": _("Enter the 6 digits your authenticator app shows.")},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )

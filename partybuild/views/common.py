"""What the party-building pages share: the form page that writes through a service."""

from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import ValidationError
from django.views.generic import FormView


class TabMixin:
    """The tab of the double report's pages (members or units) that is shown as current."""

    tab = ""

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "tab": self.tab}


class ScopedFormView(PermissionRequiredMixin, FormView):
    """A form page whose choices are limited to the user's scope, for users whose role may write.

    The form's data go to ``service`` as the acting user (``service_arguments`` when its fields
    are not the service's arguments as they are); a ValidationError the service raises goes on
    the form, which shows again with what was typed; otherwise ``written(row)`` answers.
    """

    service = None  # a staticmethod: the service the form writes through

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def service_arguments(self, form) -> dict:
        return dict(form.cleaned_data)

    def form_valid(self, form):
        try:
            row = self.service(user=self.request.user, **self.service_arguments(form))
        except ValidationError as error:
            form.add_service_error(error)
            return self.form_invalid(form)
        return self.written(row)

    def written(self, row):
        raise NotImplementedError

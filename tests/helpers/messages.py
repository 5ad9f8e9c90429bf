"""Messages as the user reads them in English, to compare with a service's or a form's words."""

from django.core.exceptions import ValidationError
from django.utils import translation


def english(message, **params) -> str:
    """A message constant as the user reads it in English."""
    with translation.override("en"):
        return str(message) % params if params else str(message)


def errors_of(excinfo_or_exc) -> list[str]:
    """Every message of a raised ValidationError, in English."""
    exc = getattr(excinfo_or_exc, "value", excinfo_or_exc)
    assert isinstance(exc, ValidationError)
    with translation.override("en"):
        return list(exc.messages)

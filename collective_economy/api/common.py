"""What the ledger's API modules share: the viewset base, the per-action permission, money fields.

Same rules as the other apps' APIs: every queryset is the caller's scope (``ScopedViewSetMixin``),
so a row outside it answers 404; related rows are looked up inside the scope; writes go through
``collective_economy.services`` and a refused rule is a 400 with its message (``run_write``).
"""

from decimal import Decimal

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers, viewsets

from governance.portal.api import ActionPermission, ScopedViewSetMixin

FLOAT_REFUSED = _("Give amounts as text in yuan with at most two decimals, such as \"1234.50\", never as a number "
                  "with a floating point.")



class LedgerViewSet(ScopedViewSetMixin, viewsets.GenericViewSet):
    """A scoped viewset of the ledger; ids are bigints (anything else is not found)."""

    permission_classes = [ActionPermission]
    action_permissions: dict[str, list[str]] = {}
    lookup_value_regex = r"\d{1,18}"

    def payload(self, serializer_class) -> dict:
        """The request's data of an action, checked by ``serializer_class`` (a 400 with the field's message if not)."""
        serializer = serializer_class(data=self.request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)


MONEY_SCHEMA = {"type": "string", "format": "decimal", "pattern": r"^\d{0,14}(?:\.\d{0,2})?$", "example": "1234.50"}


@extend_schema_field(MONEY_SCHEMA)
class MoneyField(serializers.Field):
    """Yuan to the fen, as text ("1234.50"), never a float; shown with two decimals.

    The text is passed on as it is: the service checks it (and names the line when it is a
    voucher's). A whole number is exact and taken as well; a float is refused here.
    """

    default_error_messages = {"float": FLOAT_REFUSED}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, str | int):
            self.fail("float")
        return str(data).strip()

    def to_representation(self, value):
        return f"{Decimal(value):.2f}"


def user_name(user) -> str | None:
    if user is None:
        return None
    return user.get_full_name() or user.username

"""What the ledger services share: money to the fen, and errors on a field (``invalid``, governance's copy)."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from governance.services import invalid  # noqa: F401  (the ledger services import it from here)

FEN = Decimal("0.01")
NOT_MONEY = _("Enter an amount in yuan with at most two decimals.")


def money(value) -> Decimal:
    """``value`` as yuan to the fen; a float is refused (it cannot say 0.10 exactly)."""
    if isinstance(value, float):
        raise TypeError("money is never a float: pass a Decimal or a string")
    try:
        amount = Decimal(value if value not in (None, "") else "0")
    except (InvalidOperation, TypeError, ValueError):
        raise ValidationError(NOT_MONEY) from None
    if not amount.is_finite() or amount != amount.quantize(FEN, rounding=ROUND_HALF_UP):
        raise ValidationError(NOT_MONEY)
    return amount.quantize(FEN)

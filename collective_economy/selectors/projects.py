"""What the books say about the project library: each project's income to the collective."""

from decimal import Decimal

from django.db.models import Sum

from collective_economy.models import VoucherKind, VoucherLine, VoucherStatus

ZERO = Decimal("0.00")


def project_income(projects) -> dict[int, Decimal]:
    """Each project's income to the collective: credits less debits posted on its income detail accounts,
    in one query. A red-letter reversal takes its voucher back out; the year-end carry-forward (which
    empties the income accounts into 本年收益) is left out, as the statements leave it out."""
    rows = (VoucherLine.objects.filter(voucher__status=VoucherStatus.POSTED, sub_account__projects__in=projects)
            .exclude(voucher__kind=VoucherKind.CLOSING)
            .values("sub_account__projects").annotate(credit=Sum("credit"), debit=Sum("debit")).order_by())
    return {row["sub_account__projects"]: (row["credit"] or ZERO) - (row["debit"] or ZERO) for row in rows}

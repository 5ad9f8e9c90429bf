"""Vouchers (记账凭证): prepare, send for review, review, post, reverse.

draft → submitted (送审) → reviewed (审核) → posted (记账). A posted voucher never changes
(the database refuses it too, ``collective_economy.triggers``); a mistake in one is
corrected by a red-letter reversal (红字冲销) that references it: the same lines with debit
and credit swapped — amounts stay non-negative, as every line's are — dated in an open
month, then a new correct voucher. Numbers (记-1, 记-2 …) are given at posting, one after
the other per book and month, under a lock on the month: two bookkeepers posting at once
never get the same number or leave a gap.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from collective_economy.models import (
    Book,
    ChartAccount,
    Period,
    SubAccount,
    Voucher,
    VoucherKind,
    VoucherLine,
    VoucherStatus,
)
from collective_economy.services.books import check_account, year_of
from collective_economy.services.common import invalid, money
from collective_economy.services.decisions import payment_gate_check

ZERO = Decimal("0.00")

NOT_BALANCED = _("Debits and credits differ: debits %(debit)s, credits %(credit)s, difference %(diff)s yuan.")
NO_LINES = _("A voucher needs at least one debit line and one credit line.")
LINE_ONE_SIDE = _("Line %(n)s: enter a debit or a credit, not both.")
LINE_EMPTY = _("Line %(n)s: enter an amount above 0.00.")
LINE_NEGATIVE = _("Line %(n)s: amounts are never negative; put the amount on the other side.")
LINE_SUMMARY = _("Line %(n)s: enter a summary.")
PERIOD_CLOSED = _("%(year)s-%(month)02d is closed: nothing more is entered or posted into it.")
YEAR_CLOSED = _("The year %(year)s of this book is closed.")
NOT_IN_STATE = _("This voucher is %(status)s: it cannot be %(action)s.")
SAME_PERSON = _("The one who prepared a voucher does not review it (this book asks for review by another person).")
ALREADY_REVERSED = _("This voucher is already reversed by %(reversal)s.")
REVERSE_ONLY_POSTED = _("Only a posted voucher is reversed; change a voucher that is not posted instead.")
DECISION_OTHER_VILLAGE = _("Decision %(decision)s is of another village.")
REVERSE_A_REVERSAL = _("A reversal is not reversed again: enter a new correct voucher instead.")


@dataclass(frozen=True)
class LineInput:
    """A line as the bookkeeper enters it: an account, a summary, and a debit or a credit."""

    account: ChartAccount
    summary: str = ""
    debit: Decimal | str = ZERO
    credit: Decimal | str = ZERO
    sub_account: SubAccount | None = None


def _open_period(book_year, month: int, *, lock: bool = False) -> Period:
    periods = Period.objects.filter(book_year=book_year, month=month)
    if lock:
        periods = periods.select_for_update()
    period = periods.first()
    if book_year.closed:
        raise invalid("date", YEAR_CLOSED, year=book_year.year)
    if period is None or period.closed:
        raise invalid("date", PERIOD_CLOSED, year=book_year.year, month=month)
    return period


def _checked_lines(book_year, lines: list[LineInput], summary: str) -> tuple[list[VoucherLine], Decimal, Decimal]:
    """The lines as rows, and their debit and credit totals; every mistake of every line at once."""
    errors, rows = [], []
    debit_total = credit_total = ZERO
    for n, line in enumerate(lines, start=1):
        try:
            debit, credit = money(line.debit), money(line.credit)
        except ValidationError as error:
            errors.append(ValidationError(_("Line %(n)s: %(error)s"), params={"n": n, "error": error.messages[0]}))
            continue
        if debit < 0 or credit < 0:
            errors.append(ValidationError(LINE_NEGATIVE, params={"n": n}))
            continue
        if debit and credit:
            errors.append(ValidationError(LINE_ONE_SIDE, params={"n": n}))
            continue
        if not debit and not credit:
            errors.append(ValidationError(LINE_EMPTY, params={"n": n}))
            continue
        try:
            check_account(book_year, line.account, line.sub_account, "lines")
        except ValidationError as error:
            errors.append(ValidationError(_("Line %(n)s: %(error)s"), params={"n": n, "error": error.messages[0]}))
            continue
        text = (line.summary or "").strip() or summary
        if not text:
            errors.append(ValidationError(LINE_SUMMARY, params={"n": n}))
            continue
        rows.append(VoucherLine(position=n, summary=text[:100], account=line.account, sub_account=line.sub_account,
                                debit=debit, credit=credit))
        debit_total += debit
        credit_total += credit
    if errors:
        raise ValidationError({"lines": errors})
    if not any(row.debit for row in rows) or not any(row.credit for row in rows):
        raise invalid("lines", NO_LINES)
    if debit_total != credit_total:
        raise invalid("lines", NOT_BALANCED, debit=f"{debit_total:,.2f}", credit=f"{credit_total:,.2f}",
                      diff=f"{debit_total - credit_total:,.2f}")
    return rows, debit_total, credit_total


def _locked(voucher: Voucher) -> Voucher:
    return Voucher.objects.select_for_update().select_related("book_year", "book").get(pk=voucher.pk)


def _require(voucher: Voucher, states: tuple[str, ...], action) -> None:
    if voucher.status not in states:
        raise ValidationError(NOT_IN_STATE, params={"status": voucher.get_status_display(), "action": action})


@transaction.atomic
def voucher_save(*, book: Book, date: datetime.date, lines: list[LineInput], user, attachments: int = 0,
                 summary: str = "", voucher: Voucher | None = None, kind: str = VoucherKind.NORMAL,
                 reverses: Voucher | None = None, decision=None) -> Voucher:
    """Create a draft voucher, or replace a draft's date, lines and attachments count.

    Refused, with every reason at once: an unbalanced voucher, a line with both or neither
    side, a negative or sub-fen amount, an account of another chart, a closed month. ``decision``
    is the village decision a payment cites (checked when it is posted: ``payment_gate_check``).
    """
    if decision is not None and decision.village_id != book.village_id:
        raise invalid("decision", DECISION_OTHER_VILLAGE, decision=decision.number)
    if voucher is not None:
        # A voucher past its draft says so first, whatever else is wrong with the new lines.
        voucher = _locked(voucher)
        if voucher.book_id != book.pk:
            raise invalid("book", _("A voucher stays in its book."))
        _require(voucher, (VoucherStatus.DRAFT,), _("changed"))
    book_year = year_of(book, date)
    _open_period(book_year, date.month)
    summary = (summary or "").strip() or next((line.summary.strip() for line in lines if line.summary.strip()), "")
    rows, debit_total, credit_total = _checked_lines(book_year, lines, summary)
    if voucher is None:
        voucher = Voucher(book=book, prepared_by=user, kind=kind, reverses=reverses)
    voucher.book_year, voucher.month, voucher.date = book_year, date.month, date
    voucher.attachments = attachments or 0
    voucher.decision = decision
    voucher.summary = summary[:100]
    voucher.debit_total, voucher.credit_total = debit_total, credit_total
    voucher.save()
    voucher.lines.all().delete()
    for row in rows:
        row.voucher = voucher
    VoucherLine.objects.bulk_create(rows)
    return voucher


@transaction.atomic
def voucher_submit(*, voucher: Voucher, user) -> Voucher:
    """Send a draft for review (送审)."""
    voucher = _locked(voucher)
    _require(voucher, (VoucherStatus.DRAFT,), _("sent for review"))
    _open_period(voucher.book_year, voucher.month)
    voucher.status = VoucherStatus.SUBMITTED
    voucher.save(update_fields=["status"])
    return voucher


@transaction.atomic
def voucher_review(*, voucher: Voucher, user) -> Voucher:
    """Review (审核) a voucher sent for review; by another person where the book asks for it."""
    voucher = _locked(voucher)
    _require(voucher, (VoucherStatus.SUBMITTED,), _("reviewed"))
    if voucher.book.separate_review and voucher.prepared_by_id == user.pk:
        raise ValidationError(SAME_PERSON)
    voucher.status, voucher.reviewed_by, voucher.reviewed_at = VoucherStatus.REVIEWED, user, timezone.now()
    voucher.save(update_fields=["status", "reviewed_by", "reviewed_at"])
    return voucher


@transaction.atomic
def voucher_return(*, voucher: Voucher, user) -> Voucher:
    """Send a voucher that is awaiting review or reviewed back to its draft (退回修改)."""
    voucher = _locked(voucher)
    _require(voucher, (VoucherStatus.SUBMITTED, VoucherStatus.REVIEWED), _("returned"))
    voucher.status, voucher.reviewed_by, voucher.reviewed_at = VoucherStatus.DRAFT, None, None
    voucher.save(update_fields=["status", "reviewed_by", "reviewed_at"])
    return voucher


@transaction.atomic
def voucher_post(*, voucher: Voucher, user) -> Voucher:
    """Post (记账) a reviewed voucher: it takes the next number of its month and never changes again.

    A payment above the county's threshold is posted only when it cites a decision of its village
    that reached the resolution (决议).
    """
    voucher = _locked(voucher)
    _require(voucher, (VoucherStatus.REVIEWED,), _("posted"))
    # The month's row lock orders every posting of the month: the numbers follow each other.
    _open_period(voucher.book_year, voucher.month, lock=True)
    return _post(voucher, user)


def _post(voucher: Voucher, user) -> Voucher:
    payment_gate_check(voucher)
    last = (Voucher.objects.filter(book_year=voucher.book_year, month=voucher.month, number__isnull=False)
            .aggregate(last=Max("number"))["last"])
    voucher.number = (last or 0) + 1
    voucher.status, voucher.posted_by, voucher.posted_at = VoucherStatus.POSTED, user, timezone.now()
    voucher.save(update_fields=["number", "status", "posted_by", "posted_at"])
    return voucher


@transaction.atomic
def voucher_reverse(*, voucher: Voucher, user, date: datetime.date | None = None) -> Voucher:
    """A red-letter reversal (红字冲销) of a posted voucher, as a draft dated ``date`` (default today).

    Its lines are the posted voucher's with debit and credit swapped; once posted, every balance
    is as if the voucher had never been posted. The posted voucher itself is not touched.
    """
    voucher = Voucher.objects.select_related("book").get(pk=voucher.pk)
    if voucher.status != VoucherStatus.POSTED:
        raise ValidationError(REVERSE_ONLY_POSTED)
    if voucher.kind == VoucherKind.REVERSAL:
        raise ValidationError(REVERSE_A_REVERSAL)
    existing = Voucher.objects.filter(reverses=voucher).first()
    if existing is not None:
        raise ValidationError(ALREADY_REVERSED, params={"reversal": str(existing)})
    date = date or timezone.localdate()
    lines = [LineInput(account=line.account, sub_account=line.sub_account, debit=line.credit, credit=line.debit,
                       summary=_("Reversal of %(voucher)s: %(summary)s") % {"voucher": voucher.display_number,
                                                                             "summary": line.summary})
             for line in voucher.lines.select_related("account", "sub_account")]
    summary = _("Red-letter reversal of %(date)s %(voucher)s") % {"date": voucher.date.strftime("%Y-%m"),
                                                                  "voucher": voucher.display_number}
    return voucher_save(book=voucher.book, date=date, lines=lines, user=user, summary=summary,
                        kind=VoucherKind.REVERSAL, reverses=voucher)


@transaction.atomic
def voucher_delete(*, voucher: Voucher, user) -> None:
    """Delete a draft (a voucher sent for review is returned first; a posted one is reversed)."""
    voucher = _locked(voucher)
    _require(voucher, (VoucherStatus.DRAFT,), _("deleted"))
    voucher.delete()


def voucher_post_system(*, voucher: Voucher, user) -> Voucher:
    """Review and post a voucher the system made (the year-end carry-forward) in one step, in the
    caller's transaction, under the month's lock."""
    voucher = _locked(voucher)
    _open_period(voucher.book_year, voucher.month, lock=True)
    voucher.reviewed_by, voucher.reviewed_at = user, timezone.now()
    voucher.save(update_fields=["reviewed_by", "reviewed_at"])
    return _post(voucher, user)

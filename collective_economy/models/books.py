"""A village's books (账套): its years and months, sub-accounts, opening balances, vouchers and lines.

What must never happen is refused by the database as well as by the services: a posted
voucher whose debits differ from its credits, any change to a posted voucher or its lines,
a voucher posted into a closed month (triggers written for PostgreSQL and SQLite alike, in
migration 0002; ``collective_economy.triggers`` holds their text). The services refuse the
same first, with a message a bookkeeper understands.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from collective_economy.models.charts import Chart, ChartAccount
from collective_economy.models.organisations import EconomicOrganisation
from governance.models import Level, OrgUnit
from governance.scope import ScopedQuerySet

ZERO = Decimal("0.00")
# Up to 99,999,999,999,999.99 yuan: enough for a county's sum, exact to the fen.
MONEY = {"max_digits": 16, "decimal_places": 2}
MONTH_VALIDATORS = [MinValueValidator(1), MaxValueValidator(12)]


class Book(models.Model):
    """A village collective's set of books (账套), kept by its bookkeepers (村级报账员)."""

    org_scope_field = "village"

    village = models.ForeignKey(OrgUnit, verbose_name=_("village"), on_delete=models.PROTECT, related_name="books",
                                limit_choices_to={"level": Level.VILLAGE})
    organisation = models.ForeignKey(EconomicOrganisation, verbose_name=_("economic organisation"),
                                     on_delete=models.PROTECT, related_name="books", null=True, blank=True)
    name = models.CharField(_("name"), max_length=100)
    bookkeepers = models.ManyToManyField(settings.AUTH_USER_MODEL, verbose_name=_("bookkeepers"), blank=True,
                                         related_name="books")
    separate_review = models.BooleanField(
        _("review by another person"), default=True,
        help_text=_("A voucher is reviewed by someone other than the one who prepared it, and posted by "
                    "someone other than its reviewer (where the village has more than one bookkeeper)."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("book")
        verbose_name_plural = _("books")
        ordering = ["village__tree_id", "village__lft", "pk"]

    def __str__(self):
        return self.name


class BookYear(models.Model):
    """One year of a book (会计年度), kept under one chart of accounts."""

    org_scope_field = "book__village"

    book = models.ForeignKey(Book, verbose_name=_("book"), on_delete=models.CASCADE, related_name="years")
    year = models.PositiveSmallIntegerField(_("year"), validators=[MinValueValidator(1990), MaxValueValidator(2100)])
    chart = models.ForeignKey(Chart, verbose_name=_("chart of accounts"), on_delete=models.PROTECT,
                              related_name="book_years")
    closed = models.BooleanField(_("year closed"), default=False)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("closed by"), on_delete=models.PROTECT,
                                  null=True, blank=True, related_name="+")

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("book year")
        verbose_name_plural = _("book years")
        ordering = ["book", "year"]
        constraints = [models.UniqueConstraint(fields=["book", "year"], name="ce_book_year_unique")]

    def __str__(self):
        return f"{self.book} {self.year}"


class Period(models.Model):
    """A month of a book year (会计期间): open, or closed by the township (结账) so nothing more posts into it."""

    org_scope_field = "book_year__book__village"

    book_year = models.ForeignKey(BookYear, verbose_name=_("book year"), on_delete=models.CASCADE,
                                  related_name="periods")
    month = models.PositiveSmallIntegerField(_("month"), validators=MONTH_VALIDATORS)
    closed = models.BooleanField(_("closed"), default=False)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("closed by"), on_delete=models.PROTECT,
                                  null=True, blank=True, related_name="+")

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("accounting period")
        verbose_name_plural = _("accounting periods")
        ordering = ["book_year", "month"]
        constraints = [
            models.UniqueConstraint(fields=["book_year", "month"], name="ce_period_unique"),
            models.CheckConstraint(condition=Q(month__gte=1, month__lte=12), name="ce_period_month"),
        ]

    def __str__(self):
        return f"{self.book_year.year}-{self.month:02d}"


class PeriodEvent(models.Model):
    """The audit trail of a month: closed, re-opened (with the reason), by whom and when."""

    org_scope_field = "period__book_year__book__village"

    class Action(models.TextChoices):
        CLOSE = "close", pgettext_lazy("period action", "Closed")
        REOPEN = "reopen", pgettext_lazy("period action", "Re-opened")

    period = models.ForeignKey(Period, verbose_name=_("accounting period"), on_delete=models.CASCADE,
                               related_name="events")
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT,
                             related_name="+")
    at = models.DateTimeField(_("at"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("period event")
        verbose_name_plural = _("period events")
        ordering = ["-at", "-pk"]

    def __str__(self):
        return f"{self.period} {self.get_action_display()}"


class SubAccount(models.Model):
    """A detail account (明细科目) a book keeps under a first-level account of its chart."""

    org_scope_field = "book__village"

    book = models.ForeignKey(Book, verbose_name=_("book"), on_delete=models.CASCADE, related_name="sub_accounts")
    account = models.ForeignKey(ChartAccount, verbose_name=_("first-level account"), on_delete=models.PROTECT,
                                related_name="sub_accounts")
    code = models.CharField(_("code"), max_length=12, help_text=_("The first-level code followed by 2-3 digits, "
                                                                  "e.g. 112001."))
    name = models.CharField(_("name"), max_length=60)
    is_active = models.BooleanField(_("in use"), default=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("sub-account")
        verbose_name_plural = _("sub-accounts")
        ordering = ["book", "code"]
        constraints = [models.UniqueConstraint(fields=["book", "account", "code"], name="ce_sub_account_unique")]

    def __str__(self):
        return f"{self.code} {self.account.name}-{self.name}"


def one_side_q(prefix: str = "") -> Q:
    """A line or balance stands on one side: a positive debit and no credit, or the other way round."""
    debit, credit = f"{prefix}debit", f"{prefix}credit"
    return Q(**{f"{debit}__gt": 0, credit: 0}) | Q(**{debit: 0, f"{credit}__gt": 0})


class OpeningBalance(models.Model):
    """An account's balance at the start of a book year (年初余额): carried from the closed year or imported."""

    org_scope_field = "book_year__book__village"

    book_year = models.ForeignKey(BookYear, verbose_name=_("book year"), on_delete=models.CASCADE,
                                  related_name="opening_balances")
    account = models.ForeignKey(ChartAccount, verbose_name=_("account"), on_delete=models.PROTECT, related_name="+")
    sub_account = models.ForeignKey(SubAccount, verbose_name=_("sub-account"), on_delete=models.PROTECT,
                                    null=True, blank=True, related_name="+")
    debit = models.DecimalField(_("debit"), default=ZERO, **MONEY)
    credit = models.DecimalField(_("credit"), default=ZERO, **MONEY)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("opening balance")
        verbose_name_plural = _("opening balances")
        ordering = ["book_year", "account__code", "sub_account__code"]
        constraints = [
            models.UniqueConstraint(fields=["book_year", "account", "sub_account"], name="ce_opening_unique"),
            models.UniqueConstraint(fields=["book_year", "account"], condition=Q(sub_account__isnull=True),
                                    name="ce_opening_unique_without_sub"),
            models.CheckConstraint(condition=one_side_q(), name="ce_opening_one_side"),
        ]

    def __str__(self):
        return f"{self.sub_account or self.account} {self.debit or -self.credit}"


class VoucherStatus(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("voucher status", "Draft")
    SUBMITTED = "submitted", pgettext_lazy("voucher status", "Awaiting review")
    REVIEWED = "reviewed", pgettext_lazy("voucher status", "Reviewed")
    POSTED = "posted", pgettext_lazy("voucher status", "Posted")


class VoucherKind(models.TextChoices):
    NORMAL = "normal", pgettext_lazy("voucher kind", "Voucher")
    REVERSAL = "reversal", pgettext_lazy("voucher kind", "Red-letter reversal")
    CLOSING = "closing", pgettext_lazy("voucher kind", "Year-end carry-forward")


class Voucher(models.Model):
    """A bookkeeping voucher (记账凭证): numbered 记-1, 记-2 … per book and month when it is posted.

    A posted voucher never changes. A mistake is corrected by a red-letter reversal
    (``kind=REVERSAL``, ``reverses`` the posted one): the same lines with debit and credit
    swapped (amounts stay non-negative), dated in an open month, then a new correct voucher.
    """

    org_scope_field = "book__village"

    book = models.ForeignKey(Book, verbose_name=_("book"), on_delete=models.PROTECT, related_name="vouchers")
    book_year = models.ForeignKey(BookYear, verbose_name=_("book year"), on_delete=models.PROTECT,
                                  related_name="vouchers")
    month = models.PositiveSmallIntegerField(_("month"), validators=MONTH_VALIDATORS)
    date = models.DateField(_("date"))
    number = models.PositiveIntegerField(_("number"), null=True, blank=True,
                                         help_text=_("Given at posting, gapless within the book's month."))
    status = models.CharField(_("status"), max_length=10, choices=VoucherStatus.choices, default=VoucherStatus.DRAFT)
    kind = models.CharField(_("kind"), max_length=10, choices=VoucherKind.choices, default=VoucherKind.NORMAL)
    reverses = models.OneToOneField("self", verbose_name=_("reverses"), on_delete=models.PROTECT, null=True,
                                    blank=True, related_name="reversed_by")
    attachments = models.PositiveSmallIntegerField(_("attachments"), default=0)
    summary = models.CharField(_("summary"), max_length=100, blank=True)
    prepared_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("prepared by"),
                                    on_delete=models.PROTECT, related_name="+")
    prepared_at = models.DateTimeField(_("prepared at"), auto_now_add=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("reviewed by"),
                                    on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    posted_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("posted by"),
                                  on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    posted_at = models.DateTimeField(_("posted at"), null=True, blank=True)
    debit_total = models.DecimalField(_("debit total"), default=ZERO, **MONEY)
    credit_total = models.DecimalField(_("credit total"), default=ZERO, **MONEY)
    # A payment above the county's threshold cites the village decision that allowed it (决议).
    decision = models.ForeignKey("collective_economy.Decision", verbose_name=_("village decision"),
                                 on_delete=models.PROTECT, null=True, blank=True, related_name="vouchers")

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("voucher")
        verbose_name_plural = _("vouchers")
        ordering = ["book_year", "month", "number", "pk"]
        permissions = [
            ("review_voucher", _("Can review vouchers")),
            ("post_voucher", _("Can post vouchers")),
        ]
        constraints = [
            models.UniqueConstraint(fields=["book_year", "month", "number"], name="ce_voucher_number_unique"),
            models.CheckConstraint(condition=Q(month__gte=1, month__lte=12), name="ce_voucher_month"),
            # Posted ⇔ numbered; and a posted voucher balances (its totals; the lines' sums by trigger).
            models.CheckConstraint(condition=Q(status="posted", number__isnull=False)
                                   | (~Q(status="posted") & Q(number__isnull=True)),
                                   name="ce_voucher_numbered_when_posted"),
            models.CheckConstraint(condition=~Q(status="posted") | (Q(debit_total=models.F("credit_total"))
                                                                    & Q(debit_total__gt=0)),
                                   name="ce_voucher_posted_balances"),
            models.CheckConstraint(condition=Q(reverses__isnull=True) | Q(kind="reversal"),
                                   name="ce_voucher_reversal_kind"),
        ]
        indexes = [models.Index(fields=["book_year", "status", "month"], name="ce_voucher_year_status")]

    def __str__(self):
        return self.display_number

    @property
    def display_number(self) -> str:
        """记-3 once posted; the draft's own id before."""
        if self.number is None:
            return _("Draft %(id)s") % {"id": self.pk}
        return _("J-%(number)s") % {"number": self.number}

    @property
    def is_posted(self) -> bool:
        return self.status == VoucherStatus.POSTED


class VoucherLine(models.Model):
    """A line (分录) of a voucher: one account, a summary, and a debit or a credit to the fen."""

    org_scope_field = "voucher__book__village"

    voucher = models.ForeignKey(Voucher, verbose_name=_("voucher"), on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField(_("line"), default=1)
    summary = models.CharField(_("summary"), max_length=100)
    account = models.ForeignKey(ChartAccount, verbose_name=_("account"), on_delete=models.PROTECT, related_name="+")
    sub_account = models.ForeignKey(SubAccount, verbose_name=_("sub-account"), on_delete=models.PROTECT,
                                    null=True, blank=True, related_name="lines")
    debit = models.DecimalField(_("debit"), default=ZERO, **MONEY)
    credit = models.DecimalField(_("credit"), default=ZERO, **MONEY)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("voucher line")
        verbose_name_plural = _("voucher lines")
        ordering = ["voucher", "position", "pk"]
        constraints = [models.CheckConstraint(condition=one_side_q(), name="ce_line_one_side")]
        indexes = [models.Index(fields=["account", "voucher"], name="ce_line_account")]

    def __str__(self):
        return f"{self.account} {self.debit or self.credit}"

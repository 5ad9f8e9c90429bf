"""Charts of accounts (会计科目表) as data: the rules' accounts, what counts as operating income,
how an old chart's accounts map onto a new one, and the rows of the statements.

A chart is configuration an administrator loads from a data file and edits in the admin
(``collective_economy/charts/``), never code: the 2004 village rules (财会〔2004〕12号) and the
2023 rural collective rules (财会〔2023〕14号, in force since 2024-01-01) ship with the portal.
Nothing here is county data, so nothing here is scoped.
"""

from django.core.validators import MaxLengthValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class AccountClass(models.TextChoices):
    """The class of a first-level account (科目类别)."""

    ASSET = "asset", _("Assets")
    LIABILITY = "liability", _("Liabilities")
    EQUITY = "equity", _("Owners' equity")
    COST = "cost", pgettext_lazy("account class", "Cost")
    INCOME = "income", pgettext_lazy("account class", "Income")
    EXPENSE = "expense", pgettext_lazy("account class", "Expense")


class Side(models.TextChoices):
    """The side an account's balance normally stands on (余额方向)."""

    DEBIT = "debit", pgettext_lazy("balance side", "Debit")
    CREDIT = "credit", pgettext_lazy("balance side", "Credit")


class AccountRole(models.TextChoices):
    """What the year-end close and the statements need to find in any chart, whatever its codes."""

    NONE = "", _("—")
    CASH = "cash", _("Cash on hand")
    BANK = "bank", _("Bank deposits")
    CURRENT_YEAR_PROFIT = "current_year_profit", _("Current year's profit (本年收益)")
    PROFIT_DISTRIBUTION = "profit_distribution", _("Profit distribution (收益分配)")
    FIXED_ASSETS = "fixed_assets", _("Fixed assets (固定资产)")


class Chart(models.Model):
    """A chart of accounts under one set of accounting rules (会计制度); each book year is kept under one."""

    code = models.SlugField(_("code"), max_length=20, unique=True, help_text=_("For example 2004 or 2023."))
    name = models.CharField(_("name"), max_length=100)
    regulation = models.CharField(_("regulation"), max_length=60, blank=True,
                                  help_text=_("For example 财会〔2023〕14号."))
    in_force_from = models.DateField(_("in force from"), null=True, blank=True)
    notes = models.TextField(_("notes"), max_length=2000, blank=True, validators=[MaxLengthValidator(2000)])


    class Meta:
        verbose_name = _("chart of accounts")
        verbose_name_plural = _("charts of accounts")
        ordering = ["in_force_from", "code"]

    def __str__(self):
        return f"{self.name}（{self.regulation}）" if self.regulation else self.name

    def operating_income_definition(self) -> str:
        """Its collective operating income as the accounts that count (the one place that writes it):
        经营收入（501） ＋ 投资收益（502）."""
        flagged = self.accounts.filter(operating_income=True, is_active=True).order_by("code")
        return " ＋ ".join(f"{account.name}（{account.code}）" for account in flagged)


class ChartAccount(models.Model):
    """A first-level account (一级科目) of a chart: code, name, class and normal balance side."""

    chart = models.ForeignKey(Chart, verbose_name=_("chart of accounts"), on_delete=models.CASCADE,
                              related_name="accounts")
    code = models.CharField(_("code"), max_length=10,
                            validators=[RegexValidator(r"^\d{3,6}$", _("Use 3 to 6 digits."))])
    name = models.CharField(_("name"), max_length=40)
    account_class = models.CharField(_("class"), max_length=12, choices=AccountClass.choices)
    side = models.CharField(_("normal balance"), max_length=6, choices=Side.choices)
    role = models.CharField(_("role"), max_length=24, choices=AccountRole.choices, blank=True)
    operating_income = models.BooleanField(
        _("counts as operating income"), default=False,
        help_text=_("Its income counts in the collective operating income (集体经营性收入)."),
    )
    is_active = models.BooleanField(_("in use"), default=True)


    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        ordering = ["chart", "code"]
        constraints = [
            models.UniqueConstraint(fields=["chart", "code"], name="ce_account_code_unique"),
            models.UniqueConstraint(fields=["chart", "role"], condition=~models.Q(role=""),
                                    name="ce_account_role_unique"),
            models.CheckConstraint(condition=models.Q(operating_income=False) | models.Q(account_class="income"),
                                   name="ce_account_operating_income_is_income"),
        ]

    def __str__(self):
        return f"{self.code} {self.name}"


class ChartMapping(models.Model):
    """One line of an old→new account table (新旧科目对照表): where an old account's balance goes."""

    source = models.OneToOneField(ChartAccount, verbose_name=_("old account"), on_delete=models.CASCADE,
                                  related_name="mapped_to")
    target = models.ForeignKey(ChartAccount, verbose_name=_("new account"), on_delete=models.CASCADE,
                               related_name="mapped_from")


    class Meta:
        verbose_name = _("account mapping")
        verbose_name_plural = _("account mappings")
        ordering = ["source__chart", "source__code"]

    def __str__(self):
        return f"{self.source} → {self.target}"


class Statement(models.TextChoices):
    BALANCE_SHEET = "balance_sheet", _("Balance sheet")
    INCOME = "income", _("Income and income distribution statement")


class StatementRow(models.Model):
    """A row (行次) of a statement under one chart, and the formula that fills it.

    The formula adds and subtracts terms (see ``collective_economy.selectors.statements``): an
    account code, another row (``r7``), or an account's balance at the start of the year (``@322``).
    """

    chart = models.ForeignKey(Chart, verbose_name=_("chart of accounts"), on_delete=models.CASCADE,
                              related_name="statement_rows")
    statement = models.CharField(_("statement"), max_length=20, choices=Statement.choices)
    number = models.PositiveSmallIntegerField(_("row"))
    label = models.CharField(_("item"), max_length=60)
    formula = models.CharField(_("formula"), max_length=200, blank=True)
    indent = models.PositiveSmallIntegerField(_("indent"), default=0)
    bold = models.BooleanField(_("total row"), default=False)

    class Meta:
        verbose_name = _("statement row")
        verbose_name_plural = _("statement rows")
        ordering = ["chart", "statement", "number"]
        constraints = [models.UniqueConstraint(fields=["chart", "statement", "number"], name="ce_statement_row_unique")]

    def __str__(self):
        return f"{self.number} {self.label}"

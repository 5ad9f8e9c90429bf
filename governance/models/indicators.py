"""What the monthly rollup stores: indicator values, the runs that computed them, approved months; and
the targets a county sets for its indicators."""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from governance.models.org import Level, OrgUnit
from governance.models.users import User
from governance.scope import ScopedQuerySet


class IndicatorValue(models.Model):
    """One monthly indicator of one org unit (月度指标值), as the rollup computed it.

    Counts keep their number in ``numerator``; ratios keep numerator and denominator (summed
    up the tree, never averaged) and their quotient in ``value``; a median keeps the median in
    ``value`` and the number of rows it is taken over in ``numerator``. A unit with no row for
    a key had nothing to count.
    """

    org_scope_field = "org_unit"

    org_unit = models.ForeignKey(
        OrgUnit, verbose_name=_("org unit"), on_delete=models.CASCADE, related_name="indicator_values",
        db_index=False,  # the unique (org_unit, period, key) index leads with it
        # Derived rows, written from the tree by the rollup's own INSERT ... SELECT: a database
        # check per row cost 1.1 s of a city month's 8 s at commit. Deleting a unit still
        # deletes its values (Django's cascade).
        db_constraint=False,
    )
    period = models.DateField(_("month"), help_text=_("The first day of the month."))
    key = models.CharField(_("indicator"), max_length=64)
    numerator = models.DecimalField(_("numerator"), max_digits=20, decimal_places=4, default=0)
    denominator = models.DecimalField(_("denominator"), max_digits=20, decimal_places=4, null=True, blank=True)
    value = models.DecimalField(_("value"), max_digits=24, decimal_places=6, null=True, blank=True)
    computed_at = models.DateTimeField(_("computed at"))

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("indicator value")
        verbose_name_plural = _("indicator values")
        ordering = ["period", "key", "org_unit_id"]
        indexes = [models.Index(fields=["period", "key"], name="indicator_period_key")]
        constraints = [
            models.UniqueConstraint(fields=["org_unit", "period", "key"], name="indicator_value_once")
        ]

    def __str__(self):
        return f"{self.org_unit_id} {self.period:%Y-%m} {self.key} = {self.value}"


class PeriodValue(models.Model):
    """An indicator over several months that cannot be added up from its months: a median.

    The rollup of a month stores its quarter's, half-year's and year's medians here (taken
    from the period's own samples, never a median of medians); counts and ratios over a
    period are summed from ``IndicatorValue`` when they are read. ``first`` and ``last`` are
    the first days of the period's first and last months.
    """

    org_scope_field = "org_unit"

    org_unit = models.ForeignKey(OrgUnit, verbose_name=_("org unit"), on_delete=models.CASCADE,
                                 related_name="period_values", db_index=False, db_constraint=False)
    key = models.CharField(_("indicator"), max_length=64)
    first = models.DateField(_("first month"))
    last = models.DateField(_("last month"))
    numerator = models.DecimalField(_("numerator"), max_digits=20, decimal_places=4, default=0)
    value = models.DecimalField(_("value"), max_digits=24, decimal_places=6, null=True, blank=True)
    computed_at = models.DateTimeField(_("computed at"))

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("period value")
        verbose_name_plural = _("period values")
        indexes = [models.Index(fields=["first", "last", "key"], name="period_value_range")]
        constraints = [
            models.UniqueConstraint(fields=["org_unit", "key", "first", "last"], name="period_value_once"),
            models.CheckConstraint(condition=models.Q(first__lte=models.F("last")), name="period_value_ordered"),
        ]

    def __str__(self):
        return f"{self.org_unit_id} {self.first:%Y-%m}..{self.last:%Y-%m} {self.key} = {self.value}"


class RollupStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    COMPLETE = "complete", pgettext_lazy("rollup status", "Complete")
    PARTIAL = "partial", _("Partial")
    FAILED = "failed", _("Failed")


class RollupRun(models.Model):
    """One run of the monthly indicator rollup (指标汇总), for a month and a subtree."""

    org_scope_field = "org_unit"

    period = models.DateField(_("month"))
    org_unit = models.ForeignKey(
        OrgUnit, verbose_name=_("scope"), on_delete=models.CASCADE, null=True, blank=True,
        related_name="rollup_runs", help_text=_("Empty: every unit."),
    )
    status = models.CharField(_("status"), max_length=10, choices=RollupStatus.choices, default=RollupStatus.RUNNING)
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    duration_s = models.FloatField(_("duration (s)"), null=True, blank=True)
    errors = models.JSONField(_("errors"), default=list, blank=True)
    parts = models.JSONField(_("parts"), default=dict, blank=True)
    # Written every ROLLUP_HEARTBEAT_SECONDS by the worker computing one of its parts, from its own
    # connection (the part's transaction commits only at its end): a running run silent for
    # ROLLUP_STALE_SECONDS lost its worker, and the watcher (beat, every minute) resumes it.
    heartbeat_at = models.DateTimeField(_("last heartbeat"), null=True, blank=True)
    resumes = models.ForeignKey(
        "self", verbose_name=_("resumes"), on_delete=models.SET_NULL, null=True, blank=True,
        related_name="resumed_by", help_text=_("The run whose unfinished parts this one computes."),
    )

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("rollup run")
        verbose_name_plural = _("rollup runs")
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["period", "-started_at"], name="rollup_run_period")]

    def __str__(self):
        return f"{self.period:%Y-%m} {self.status}"


class MonthApproval(models.Model):
    """The county's approval of one month's indicators (月度数据审核锁定), as DHIS2 approves data.

    While ``locked``, no scheduled or on-demand run recomputes the month; the nightly check
    sets ``changed_at`` when recomputing it would change a stored value (a late correction),
    until an administrator re-opens the month and runs it again.
    """

    period = models.DateField(_("month"), unique=True, help_text=_("The first day of the month."))
    locked = models.BooleanField(_("locked"), default=True)
    approved_by = models.ForeignKey(
        User, verbose_name=_("approved by"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    reopened_by = models.ForeignKey(
        User, verbose_name=_("re-opened by"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reopened_at = models.DateTimeField(_("re-opened at"), null=True, blank=True)
    checked_at = models.DateTimeField(_("last checked at"), null=True, blank=True)
    changed_at = models.DateTimeField(
        _("changed since approval"), null=True, blank=True,
        help_text=_("When a check first found values that differ from the approved ones."),
    )

    class Meta:
        verbose_name = _("month approval")
        verbose_name_plural = _("month approvals")
        ordering = ["-period"]

    def __str__(self):
        return f"{self.period:%Y-%m} {'locked' if self.locked else 'open'}"


# Where a target is set: a county for all of it; a city for its counties, a township for itself and
# its villages, where they set none of their own.
TARGET_LEVELS = (Level.CITY, Level.COUNTY, Level.TOWNSHIP)


class IndicatorTarget(models.Model):
    """A county's own target for one indicator (指标目标), set by its administrator.

    ``value`` is written in the figure's own unit (95 for 95%, 2 for two cases); which way is
    better is the indicator's (``Indicator.better``). A figure within ``near`` of the target
    is near it (empty: the indicator's declared distance, else 5 points for a rate and a tenth
    of the target for a count). It holds from the month ``valid_from`` (empty: every month);
    before it, and where no unit above sets one, the target the indicator declares holds.

    The dashboards of the county and of every unit below it show it beside the figure and
    colour their leagues by it; the nearest unit's target wins (a township may set its own for
    its page and its villages, a city for counties that set none). A league is judged by the
    targets in force at the unit whose league it is.
    """

    org_scope_field = "unit"

    unit = models.ForeignKey(
        OrgUnit, verbose_name=_("county, city or township"), on_delete=models.CASCADE, related_name="indicator_targets",
        limit_choices_to={"level__in": TARGET_LEVELS},
        db_index=False,  # the unique (unit, key) index leads with it
    )
    key = models.CharField(_("indicator"), max_length=64)
    value = models.DecimalField(_("target"), max_digits=14, decimal_places=4,
                                help_text=_("In the figure's own unit: 95 for 95%, 2 for two cases."))
    near = models.DecimalField(
        _("near within"), max_digits=14, decimal_places=4, null=True, blank=True,
        help_text=_("A figure at most this far from the target is near it (yellow); farther, it is far "
                    "(red). Empty: the indicator's usual distance."),
    )
    valid_from = models.DateField(_("valid from"), null=True, blank=True,
                                  help_text=_("The first month it holds for; empty: every month."))

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("indicator target")
        verbose_name_plural = _("indicator targets")
        ordering = ["unit__code", "key"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "key"], name="indicator_target_once"),
            models.CheckConstraint(condition=models.Q(near__isnull=True) | models.Q(near__gte=0),
                                   name="indicator_target_near_positive"),
        ]

    def __str__(self):
        return f"{self.key} {self.value}"

    def clean(self):
        if self.valid_from is not None:
            self.valid_from = self.valid_from.replace(day=1)
        if self.unit_id and self.unit.level not in TARGET_LEVELS:
            raise ValidationError({"unit": gettext("Targets are set for a city, a county or a township.")})

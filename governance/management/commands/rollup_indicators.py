from django.core.management.base import BaseCommand, CommandError

from governance.indicators.approval import period_is_locked
from governance.indicators.dashboard import values_over
from governance.indicators.engine import rollup_month
from governance.indicators.months import Period, format_period, month_bounds, parse_period
from governance.indicators.registry import FLOW, all_indicators
from governance.models import IndicatorValue, Level, OrgUnit


def _verify_counts(start, end):
    """The plain ORM count of every indicator that declares one (``Indicator.check``), per subtree."""
    return {
        indicator.key: (lambda check: lambda sub: check(start, end, sub))(indicator.check)
        for indicator in all_indicators()
        if indicator.check is not None
    }


class Command(BaseCommand):
    help = "Compute the monthly indicators of one month (for one unit's subtree with --org)."

    def add_arguments(self, parser):
        parser.add_argument("--month", required=True, help="YYYY-MM")
        parser.add_argument("--org", help="Code of the unit whose subtree to compute (default: all).")
        parser.add_argument("--verify", action="store_true",
                            help="Recompute one township with plain ORM counts and compare.")
        parser.add_argument("--force", action="store_true",
                            help="Compute the month even if it is approved and locked.")
        parser.add_argument("--no-progress", action="store_true", help="Do not draw the progress bar.")

    def _progress(self, label, family, done, total, status):
        """A text bar on stderr, redrawn after each indicator family."""
        width = 30
        filled = width * done // max(total, 1)
        mark = "" if status == "ok" else f" {status.upper()}"
        self.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {family[-40:]:<40}{mark}",
                          ending="\n" if done == total or mark else "")
        self.stderr.flush()

    def handle(self, *args, month, org=None, verify=False, force=False, no_progress=False, **options):
        period = parse_period(month)
        if period is None:
            raise CommandError(f"--month must be YYYY-MM, not {month!r}")
        unit = None
        if org:
            unit = OrgUnit.objects.filter(code=org).first()
            if unit is None:
                raise CommandError(f"No org unit with code {org}")
        if period_is_locked(period) and not force:
            raise CommandError(f"{format_period(period)} is approved and locked: re-open it first (or use --force)")
        run = rollup_month(period, org=unit, progress=None if no_progress else self._progress)
        self.stdout.write(f"{format_period(period)} {run.status} in {run.duration_s:.2f} s")
        tops = [unit] if unit else list(OrgUnit.objects.filter(parent__isnull=True).order_by("code"))
        values = {(v.org_unit_id, v.key): v for v in IndicatorValue.objects.filter(
            period=period, org_unit__in=tops)}
        for indicator in all_indicators():
            shown = ", ".join(
                f"{top.code} {values[top.pk, indicator.key].value if (top.pk, indicator.key) in values else '-'}"
                for top in tops
            )
            self.stdout.write(f"  {indicator.key:<36} {shown}")
        for error in run.errors:
            self.stderr.write(f"{error['part']}: {error['error']}")
        if verify:
            self._verify(period, unit)
        if run.errors:
            raise CommandError(f"rollup {run.status}: {len(run.errors)} part(s) failed")

    def _verify(self, period, unit):
        townships = OrgUnit.objects.filter(level=Level.TOWNSHIP).order_by("tree_id", "lft")
        if unit is not None and unit.level != Level.TOWNSHIP:
            townships = townships.filter(tree_id=unit.tree_id, lft__gt=unit.lft, lft__lt=unit.rght)
        township = unit if unit is not None and unit.level == Level.TOWNSHIP else townships.first()
        if township is None:
            raise CommandError("No township to verify")
        start, end = month_bounds(period)
        checks = _verify_counts(start, end)
        stored = {
            (v.org_unit_id, v.key): v.numerator
            for v in IndicatorValue.objects.filter(period=period, key__in=checks, org_unit__in=township
                                                   .get_descendants(include_self=True))
        }
        mismatches = compared = 0
        for node in township.get_descendants(include_self=True):
            subtree = node.get_descendants(include_self=True)
            for key, count in checks.items():
                expected, got = count(subtree), stored.get((node.pk, key), 0)
                compared += 1
                if expected != got:
                    mismatches += 1
                    self.stderr.write(f"MISMATCH {node.code} {key}: ORM {expected}, stored {got}")
        self.stdout.write(f"verify {township.code}: {compared} values compared, {mismatches} mismatches")
        mismatches += self._verify_period(period, township)
        if mismatches:
            raise CommandError(f"{mismatches} mismatches")

    def _verify_period(self, month, township) -> int:
        """The figures of the month's quarter so far, as the dashboard and the API add them up, against
        the plain ORM counts over the same dates: a flow summed, a stock read at its last month."""
        quarter = Period.quarter(month.year, (month.month + 2) // 3)
        period = Period(quarter.first, month)
        computed = set(IndicatorValue.objects.filter(org_unit=township, period__gte=period.first,
                                                     period__lte=period.last).values_list("period", flat=True))
        if period.length == 1 or computed != set(period.months):
            self.stdout.write(f"verify {period}: skipped (needs every month of {period} computed)")
            return 0
        indicators = {indicator.key: indicator for indicator in all_indicators()}
        checked = [indicators[key] for key in _verify_counts(*month_bounds(month))]
        units = list(township.get_descendants(include_self=True))
        values = values_over(units, period, indicators)
        mismatches = compared = 0
        for node in units:
            subtree = node.get_descendants(include_self=True)
            for indicator in checked:
                start, end = period.bounds() if indicator.over == FLOW else month_bounds(period.last)
                expected = indicator.check(start, end, subtree)
                row = values.get(node.pk, {}).get(indicator.key)
                got = row.numerator if row is not None else 0
                compared += 1
                if expected != got:
                    mismatches += 1
                    self.stderr.write(f"MISMATCH {period} {node.code} {indicator.key}: ORM {expected}, added up {got}")
        self.stdout.write(f"verify {period} {township.code}: {compared} values compared, {mismatches} mismatches")
        return mismatches

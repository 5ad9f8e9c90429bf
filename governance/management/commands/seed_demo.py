import argparse
import datetime
import json
import time

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from governance.demo import DEFAULT_PASSWORD, DEMO_USERNAMES, SCALES, ResetRefused, seed_demo
from governance.demo.dates import last_complete_month
from governance.indicators.engine import rollup_month
from governance.indicators.months import shift_month
from governance.models import Level, Role, RollupStatus, User
from governance.rosters.writing import analyze

# A year of trend lines and the same month a year before: the thirteen complete months before today's.
DEMO_ROLLUP_MONTHS = 13


def _day(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(_("Enter a date as YYYY-MM-DD.")) from None


class Command(BaseCommand):
    @property
    def help(self):  # translated when the parser is built (argparse cannot take a lazy string)
        return _(
            "Load a deterministic demo place (a small test county, a Dechang-sized county or a city) "
            "with households, residents and the demo users. Does nothing if org units already exist."
        )

    def add_arguments(self, parser):
        parser.add_argument("--scale", choices=sorted(SCALES), default="county", help=_("Size of the demo place."))
        parser.add_argument("--seed", type=int, default=1, help=_("Random seed: the same seed gives the same data."))
        parser.add_argument(
            "--today", type=_day, metavar="YYYY-MM-DD",
            help=_("The day to seed for (default: today). The records run up to the day before and the "
                   "indicators to the month before; the same seed and day give the same data."),
        )
        parser.add_argument(
            "--password",
            default=DEFAULT_PASSWORD,
            help=_("Password of the demo users (demo only; default %(default)s)."),
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help=_(
                "First delete all org units, households, residents, the apps' demo rosters and the users "
                "attached to units."
            ),
        )
        parser.add_argument("--stats-file", help=_("Also write the summary as JSON to this file (for benchmarks)."))
        parser.add_argument(
            "--no-rollup", action="store_true",
            help=_("Do not compute the monthly indicators of the demo's last %(months)d months.")
            % {"months": DEMO_ROLLUP_MONTHS},
        )

    def handle(self, *args, scale, seed, password, reset, stats_file, today=None, no_rollup=False, **options):
        if not password:
            raise CommandError(_("The demo password must not be empty."))
        today = today or timezone.localdate()
        try:
            result = seed_demo(scale=scale, seed=seed, today=today, password=password, reset=reset)
        except ResetRefused as exc:
            raise CommandError(str(exc)) from exc
        except DatabaseError as exc:  # integrity errors included
            raise CommandError(
                _("Seeding failed and nothing was written: %(error)s. Other data may refer to the org units; "
                  "remove it first.") % {"error": exc}
            ) from exc
        if result.skipped:
            self.stdout.write(
                _("Org units already exist: demo data not loaded (use --reset to replace everything).")
            )
            users = User.objects.filter(username__in=DEMO_USERNAMES).select_related("home_unit")
            if users:
                order = {name: i for i, name in enumerate(DEMO_USERNAMES)}
                rows = [
                    (u.username, Role(u.role).label, u.home_unit.display_name if u.home_unit else "")
                    for u in sorted(users, key=lambda u: order[u.username])
                ]
                self.stdout.write("")
                self.stdout.write(
                    _("Demo logins (password as set when the demo was loaded; default %(password)s):")
                    % {"password": DEFAULT_PASSWORD}
                )
                self._table(rows)
            return
        self._summary(result)
        # The planner's statistics of the tables just filled (PostgreSQL): without them the rollup below
        # and the first dashboards plan for empty tables.
        analyze()
        if options["verbosity"] >= 2:
            self.stdout.write(
                _("Seconds per step: %(steps)s")
                % {"steps": ", ".join(f"{name} {seconds:.1f}" for name, seconds in result.phases.items())}
            )
        if not no_rollup:
            self._rollup(today)
        self._logins(result, password)
        if stats_file:
            with open(stats_file, "w", encoding="utf-8") as fh:
                json.dump(
                    {
                        "scale": result.scale,
                        "seed": result.seed,
                        "today": result.today.isoformat(),
                        "as_of": result.as_of.isoformat(),
                        "units": result.units,
                        "households": result.households,
                        "residents": result.residents,
                        "household_tags": result.household_tags,
                        "resident_tags": result.resident_tags,
                        "rosters": result.rosters,
                        "rows": result.rows,
                        "seconds": round(result.seconds, 3),
                        "phases": result.phases,
                    },
                    fh,
                    indent=2,
                )

    def _summary(self, result):
        lines = [
            (str(Level(level).label), f"{count:,}") for level, count in result.units.items() if count
        ]
        lines += [
            (_("Households"), f"{result.households:,}"),
            (_("Residents"), f"{result.residents:,}"),
            (_("Tag links"), f"{result.household_tags + result.resident_tags:,}"),
        ]
        # What the apps' demo modules wrote (rosters...), by model.
        lines += [
            (capfirst(apps.get_model(label)._meta.verbose_name_plural), f"{count:,}")
            for label, count in result.rosters.items()
        ]
        lines += [
            (_("Rows inserted"), f"{result.rows:,}"),
            (_("Seconds"), f"{result.seconds:.1f}"),
        ]
        self.stdout.write(
            self.style.SUCCESS(
                _("Demo data loaded (scale %(scale)s, seed %(seed)d), its records up to %(as_of)s:")
                % {"scale": result.scale, "seed": result.seed, "as_of": result.as_of.isoformat()}
            )
        )
        width = max(_display_width(label) for label, _value in lines)
        for label, value in lines:
            self.stdout.write(f"  {label}{' ' * (width - _display_width(label))}  {value:>12}")

    def _rollup(self, today: datetime.date):
        """The dashboards' figures: the last complete months of the demo's history (the month in
        progress is left to the live system), computed in this process."""
        last = last_complete_month(today)
        months = [shift_month(last, -i) for i in reversed(range(DEMO_ROLLUP_MONTHS))]
        self.stdout.write("")
        self.stdout.write(_("Computing the monthly indicators of %(first)s to %(last)s...")
                          % {"first": f"{months[0]:%Y-%m}", "last": f"{last:%Y-%m}"})
        began = time.monotonic()
        for period in months:
            run = rollup_month(period)
            if run.status != RollupStatus.COMPLETE:
                raise CommandError(_("The indicators of %(month)s could not be computed: %(errors)s")
                                   % {"month": f"{period:%Y-%m}", "errors": run.errors})
        self.stdout.write(_("  %(count)d months in %(seconds).1f s") % {"count": len(months),
                                                                       "seconds": time.monotonic() - began})

    def _logins(self, result, password):
        self.stdout.write("")
        self.stdout.write(_("Demo logins (password for all: %(password)s):") % {"password": password})
        self._table(result.users)

    def _table(self, users):
        rows = [(_("Username"), _("Role"), _("Home unit"))] + [
            (username, str(role), unit) for username, role, unit in users
        ]
        widths = [max(_display_width(row[i]) for row in rows) for i in range(3)]
        for row in rows:
            cells = [cell + " " * (widths[i] - _display_width(cell)) for i, cell in enumerate(row)]
            self.stdout.write("  " + "  ".join(cells).rstrip())


def _display_width(text: str) -> int:
    """Terminal columns: CJK characters take two."""
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in str(text))

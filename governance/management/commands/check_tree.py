from django.core.management.base import BaseCommand, CommandError

from governance.models import OrgUnit
from governance.tree_check import tree_violations


class Command(BaseCommand):
    help = "Verify the integrity of the OrgUnit tree (MPTT ranges, tree ids, levels and codes)."

    def handle(self, *args, **options):
        violations = tree_violations()
        for violation in violations:
            self.stdout.write(str(violation))
        total = OrgUnit.objects.count()
        self.stdout.write(f"{total} units checked, {len(violations)} violations")
        if violations:
            raise CommandError(f"{len(violations)} violations")

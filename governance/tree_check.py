"""Integrity check of the OrgUnit tree: MPTT bookkeeping plus the domain's level/code rules.

Used by ``manage.py check_tree`` and the nightly task. Each check is one set-based query,
so a city-sized tree (tens of thousands of units) is checked in well under a second.
"""

from dataclasses import dataclass

from django.db.models import Count, F, Max, Q

from governance.models import OrgUnit, division_code_error, level_error


@dataclass(frozen=True)
class Violation:
    code: str
    message: str

    def __str__(self):
        return f"{self.code}: {self.message}"


def tree_violations() -> list[Violation]:
    out: list[Violation] = []
    units = OrgUnit.objects.order_by()

    for code in units.filter(Q(lft__gte=F("rght")) | Q(parent__isnull=True, lft__gt=1)).values_list("code", flat=True):
        out.append(Violation(code, "left value is not below the right value (or a root does not start at 1)"))

    # A child lies strictly inside its parent's range, in the same tree, one level deeper.
    misplaced = units.filter(parent__isnull=False).exclude(
        tree_id=F("parent__tree_id"),
        lft__gt=F("parent__lft"),
        rght__lt=F("parent__rght"),
        mptt_level=F("parent__mptt_level") + 1,
    )
    for code in misplaced.values_list("code", flat=True):
        out.append(Violation(code, "range, tree id or depth does not nest inside the parent"))

    for row in units.filter(parent__isnull=True).values("tree_id").annotate(n=Count("id")).filter(n__gt=1):
        out.append(Violation(f"tree {row['tree_id']}", f"{row['n']} roots share one tree id"))

    for field in ("lft", "rght"):
        dupes = units.values("tree_id", field).annotate(n=Count("id")).filter(n__gt=1)
        for row in dupes:
            out.append(Violation(f"tree {row['tree_id']}", f"{row['n']} units share {field}={row[field]}"))

    # With n nodes a valid tree uses exactly the numbers 1..2n.
    for row in units.values("tree_id").annotate(n=Count("id"), top=Max("rght")):
        if row["top"] != 2 * row["n"]:
            out.append(Violation(f"tree {row['tree_id']}", f"{row['n']} units but the root ends at {row['top']}"))

    rows = units.values_list("code", "level", "parent__code", "parent__level")
    for code, level, parent_code, parent_level in rows.iterator(chunk_size=5000):
        message = level_error(level, parent_level) or division_code_error(level, code, parent_code)
        if message:
            out.append(Violation(code, message))
    return out

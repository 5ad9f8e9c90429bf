"""What an import found: errors by row and column, samples of the new and changed rows, and counts."""

from dataclasses import dataclass, field

from django.utils.translation import gettext, ngettext

SAMPLE_ROWS = 50


# --- The report ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    """One problem: ``row`` as numbered in the file (the header is row 1), the column's header, the message;
    ``value``: the cell as read (empty for a problem of the whole row or file); ``name``: what names the
    row (the spec's naming column: a person's or a unit's name), so a clerk finds it without counting rows."""

    row: int
    column: str
    message: str
    value: str = ""
    name: str = ""


@dataclass
class SampleRow:
    row: int
    status: str  # "new" or "changed"
    cells: list[str]
    changed: set[str]  # headers of the changed columns


@dataclass
class ImportReport:
    kind: str
    label: str = ""
    filename: str = ""
    dry_run: bool = False
    written: bool = False
    rows: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    error_rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    headers: list[str] = field(default_factory=list)
    name_header: str = ""  # the header of the column that names a row (RowError.name)
    written_pks: list[int] = field(default_factory=list)  # the rows the import added or changed
    ignored_columns: list[str] = field(default_factory=list)
    samples: list[SampleRow] = field(default_factory=list)
    elapsed: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)  # seconds per step (for benchmarks)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.elapsed if self.elapsed > 0 else 0.0

    def status(self) -> str:
        if self.errors:
            if not self.error_rows:
                return gettext("The file cannot be imported: nothing was written.")
            return ngettext(
                "%(count)d row has errors: nothing was written.",
                "%(count)d rows have errors: nothing was written.",
                self.error_rows,
            ) % {"count": self.error_rows}
        if self.dry_run:
            return gettext("Preview only: nothing was written.")
        if not self.new and not self.changed:
            return gettext("Nothing to change: every row is already up to date.")
        return gettext("Import finished.")

    def counts_line(self) -> str:
        return gettext(
            "%(rows)d rows: %(new)d new, %(changed)d changed, %(unchanged)d unchanged, %(errors)d with errors."
        ) % {
            "rows": self.rows,
            "new": self.new,
            "changed": self.changed,
            "unchanged": self.unchanged,
            "errors": self.error_rows,
        }

    def lines(self) -> list[str]:
        out = [f"{self.label}: {self.status()}", self.counts_line()]
        out.append(
            gettext("%(seconds).1f s, %(rate)s rows/s.")
            % {"seconds": self.elapsed, "rate": f"{self.rows_per_second:,.0f}"}
        )
        if self.ignored_columns:
            out.append(gettext("Columns ignored: %(columns)s") % {"columns": "、".join(self.ignored_columns)})
        for error in self.errors:
            where = gettext("Row %(row)d") % {"row": error.row} if error.row else gettext("File")
            name = f" {error.name}" if error.name else ""
            column = f" [{error.column}]" if error.column else ""
            value = gettext(" (read: %(value)s)") % {"value": error.value} if error.value else ""
            out.append(f"  {where}{column}{name}{value}: {error.message}")
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())

"""The statements as tables, laid out once for the page, the print page and the Excel file.

Each ``*_table`` turns a selector's result (``collective_economy.selectors.statements``) into a
``Table``: column groups, columns, rows of cells (Decimal, text or a number). The page shows
it with thousands separators, the print page the same on A4, and ``table_xlsx`` writes it as
bookkeepers expect a statement in Excel: the title, the organisation and its credit code, the
period and "单位：元", the header rows (merged where a group spans columns), the figures as
numbers formatted #,##0.00, the totals in bold, and the 制表人/审核人 line.
"""

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

from collective_economy.selectors import ledgers
from collective_economy.selectors import overview as ov
from collective_economy.selectors import statements as st

SIDES = {"debit": "借", "credit": "贷", "flat": "平"}


def _s(word: str) -> str:
    """A statement's own word where the portal uses another (资产 not 资产类, 摘要 not 概况, 行次 not 行号)."""
    return pgettext("statement", word)


def yuan(amount, *, blank_zero: bool = False) -> str:
    """12345.6 → 12,345.60 (a negative stays negative); zero blank when asked."""
    if amount is None or (blank_zero and not amount):
        return ""
    return f"{amount:,.2f}"


@dataclass
class Column:
    label: str
    numeric: bool = False
    width: int = 14


@dataclass
class Row:
    cells: list
    bold: bool = False
    indent: int = 0
    links: dict = field(default_factory=dict)  # column index → URL
    blank_zero: bool = True


@dataclass
class Table:
    title: str
    columns: list[Column]
    rows: list[Row]
    groups: list[tuple[str, int]] | None = None  # a header row above the columns: (label, columns spanned)
    foot: list[Row] = field(default_factory=list)

    def shown(self, rows: list[Row]) -> list[dict]:
        """Rows as the page shows them: text, alignment, link, the column's name for a phone's card."""
        labels = self.labels()
        out = []
        for row in rows:
            cells = []
            for index, value in enumerate(row.cells):
                numeric = self.columns[index].numeric
                if isinstance(value, Decimal):
                    text = yuan(value, blank_zero=row.blank_zero and not row.bold)
                else:
                    text = "" if value is None else str(value)
                cells.append({"text": text, "numeric": numeric, "label": labels[index], "link": row.links.get(index),
                              "indent": row.indent if index == self.indent_column() else 0})
            out.append({"cells": cells, "bold": row.bold})
        return out

    def labels(self) -> list[str]:
        if not self.groups:
            return [column.label for column in self.columns]
        labels, index = [], 0
        for label, span in self.groups:
            for column in self.columns[index:index + span]:
                labels.append(f"{label}·{column.label}" if span > 1 and label != column.label else column.label)
            index += span
        return labels

    def indent_column(self) -> int:
        return 1 if len(self.columns) > 1 and not self.columns[1].numeric else 0

    @property
    def body(self) -> list[dict]:
        return self.shown(self.rows)

    @property
    def footer(self) -> list[dict]:
        return self.shown(self.foot)

    @property
    def header_groups(self) -> list[dict]:
        """The group row with the columns it covers; a column alone in its group spans both header rows."""
        if not self.groups:
            return []
        out, index = [], 0
        for label, span in self.groups:
            out.append({"label": label, "span": span, "alone": span == 1 and self.columns[index].label == label,
                        "numeric": self.columns[index].numeric})
            index += span
        return out

    @property
    def grouped_columns(self) -> list[Column]:
        """The columns shown in the second header row (those not alone in their group)."""
        if not self.groups:
            return self.columns
        out, index = [], 0
        for label, span in self.groups:
            if not (span == 1 and self.columns[index].label == label):
                out.extend(self.columns[index:index + span])
            index += span
        return out


Link = Callable[..., str] | None


# --- The statements as tables ---------------------------------------------------------------------


def trial_balance_table(trial: st.TrialBalance, link: Link = None) -> Table:
    debit, credit = _s("Debit"), _s("Credit")
    columns = [Column(_("Account code"), width=10), Column(_("Account name"), width=22)]
    columns += [Column(label, numeric=True, width=15) for _pair in range(5) for label in (debit, credit)]
    groups = [(_("Account code"), 1), (_("Account name"), 1), (_("Opening balance of the year"), 2),
              (_("Balance at the start of the period"), 2), (_("Turnover of the period"), 2),
              (_("Turnover of the year to date"), 2), (_("Closing balance"), 2)]
    rows = []
    for row in trial.rows:
        values = st.trial_row_columns(row.figures)
        links = {}
        if link is not None:
            links = {0: link("detail-ledger" if row.level == 2 else "general-ledger", row.code)}
        rows.append(Row([row.code, row.name, *(values[name] for name in st.TRIAL_COLUMNS)],
                        indent=row.level - 1, links=links))
    foot = [Row(["", _("Total"), *(trial.totals[name] for name in st.TRIAL_COLUMNS)], bold=True)]
    return Table(_("Trial balance"), columns, rows, groups, foot)


def balance_sheet_table(sheet: st.StatementResult) -> Table:
    """Assets on the left, liabilities and equity on the right, as the rules print them."""
    columns = [Column(_s("Assets"), width=22), Column(_s("Row"), width=6), Column(_("Start of the year"), True, 15),
               Column(_("End of the period"), True, 15), Column(_("Liabilities and owners' equity"), width=24),
               Column(_s("Row"), width=6), Column(_("Start of the year"), True, 15),
               Column(_("End of the period"), True, 15)]
    left, right = sheet.assets, sheet.liabilities
    rows = []
    for index in range(max(len(left), len(right))):
        cells, bold = [], False
        for side in (left, right):
            line = side[index] if index < len(side) else None
            if line is None:
                cells += ["", "", None, None]
                continue
            label = "　" * line.indent + line.label
            cells += [label, line.number, *((None, None) if line.heading else line.values)]
            bold = bold or line.bold
        rows.append(Row(cells, bold=False))
    return Table(_("Balance sheet"), columns, rows)


def statement_lines_table(result: st.StatementResult) -> Table:
    """One column of items (the income statement; the balance sheet on a phone)."""
    if result.statement == "income":
        titles = (_("This period"), _("Year to date"))
        title = _("Income and income distribution statement")
    else:
        titles = (_("Start of the year"), _("End of the period"))
        title = _("Balance sheet")
    columns = [Column(_s("Item"), width=30), Column(_s("Row"), width=6), Column(titles[0], True, 16),
               Column(titles[1], True, 16)]
    rows = [Row(["　" * line.indent + line.label, line.number, *((None, None) if line.heading else line.values)],
                bold=line.bold, blank_zero=False) for line in result.lines]
    return Table(title, columns, rows)


def general_ledger_table(ledger: ledgers.Ledger) -> Table:
    columns = [Column(_("Month"), width=8), Column(_s("Summary"), width=20), Column(_s("Debit"), True, 16),
               Column(_s("Credit"), True, 16), Column(_("Debit or credit"), width=8), Column(_("Balance"), True, 16)]
    names = {"opening": _("Balance brought forward"), "month": _("Total of the month"),
             "year": _("Total of the year to date")}
    rows = []
    for line in ledger.lines:
        month = "" if line.kind == "opening" else f"{line.month}"
        rows.append(Row([month, names[line.kind], line.debit, line.credit, SIDES[line.side], line.amount],
                        bold=line.kind == "year", blank_zero=line.kind == "opening"))
    return Table(_("General ledger"), columns, rows)


def detail_ledger_table(ledger: ledgers.Ledger, voucher_link: Link = None, with_village: bool = False) -> Table:
    columns = [Column(_("Date"), width=11), Column(_s("Voucher"), width=8)]
    if with_village:
        columns.append(Column(_("Village/community"), width=12))
    columns += [Column(_s("Summary"), width=28), Column(_s("Debit"), True, 15), Column(_s("Credit"), True, 15),
                Column(_("Debit or credit"), width=8), Column(_("Balance"), True, 15)]
    rows = []
    for line in ledger.lines:
        if line.kind == "opening":
            cells = ["", "", _("Balance brought forward")]
        elif line.kind == "total":
            cells = ["", "", _("Total of the period")]
        else:
            cells = [line.date.isoformat(), line.voucher, line.summary]
        if with_village:
            cells.insert(2, line.village)
        cells += [line.debit, line.credit, SIDES[line.side], line.amount]
        links = {1: voucher_link(line.voucher_id)} if voucher_link and line.voucher_id else {}
        rows.append(Row(cells, bold=line.kind == "total", links=links, blank_zero=line.kind != "total"))
    return Table(_("Detail ledger"), columns, rows)


def overview_table(overview: ov.Overview, link: Link = None) -> Table:
    columns = [Column(_("Village/community"), width=16), Column(_("Chart of accounts"), width=10),
               Column(_("Operating income this month"), True, 16),
               Column(_("Operating income this year"), True, 16), Column(_("Total income this year"), True, 16),
               Column(_("Debit total"), True, 16), Column(_("Credit total"), True, 16),
               Column(_("Trial balance"), width=8), Column(_("Months closed"), True, 8),
               Column(_("Vouchers not posted"), True, 8)]
    rows = []
    for row in overview.rows:
        name = row.village.short_name or row.village.name
        if row.book_year is None:
            rows.append(Row([name, _("No books yet"), None, None, None, None, None, "", None, None]))
            continue
        links = {0: link(row.village.pk)} if link else {}
        rows.append(Row([name, row.book_year.chart.code, row.operating_income_month, row.operating_income_ytd,
                         row.income_ytd, row.debit, row.credit,
                         _("Balanced") if row.balanced else _("Not balanced"), row.months_closed, row.unposted],
                        links=links, blank_zero=False))
    foot = []
    if overview.totals is not None:
        t = overview.totals
        foot.append(Row([_("Total"), "", t.operating_income_month, t.operating_income_ytd, t.income_ytd, t.debit,
                         t.credit, "", None, t.unposted], bold=True))
    return Table(_("Books of the villages side by side"), columns, rows, foot=foot)


# --- Excel ----------------------------------------------------------------------------------------

THIN = Side(style="thin", color="999999")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
MONEY_FORMAT = "#,##0.00"


def table_xlsx(table: Table, *, heading: list[str], notes: list[str] = (), signatures: bool = True) -> bytes:
    """The statement as an .xlsx file: title, the lines of ``heading`` (organisation, period, unit), the
    header rows, the figures as numbers, the totals in bold, ``notes`` and the signature line below."""
    book = Workbook()
    sheet = book.active
    sheet.title = table.title[:31]
    width = len(table.columns)
    sheet.append([table.title])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    sheet.cell(1, 1).font = Font(bold=True, size=16)
    sheet.cell(1, 1).alignment = Alignment(horizontal="center")
    for line in heading:
        sheet.append([line])
        sheet.merge_cells(start_row=sheet.max_row, start_column=1, end_row=sheet.max_row, end_column=width)
    header_top = sheet.max_row + 1
    if table.groups:
        index = 1
        row = header_top
        for label, span in table.groups:
            sheet.cell(row, index, label)
            alone = span == 1 and table.columns[index - 1].label == label
            if alone:
                sheet.merge_cells(start_row=row, start_column=index, end_row=row + 1, end_column=index)
            elif span > 1:
                sheet.merge_cells(start_row=row, start_column=index, end_row=row, end_column=index + span - 1)
            for offset in range(span):
                if not alone:
                    sheet.cell(row + 1, index + offset, table.columns[index - 1 + offset].label)
            index += span
        header_rows = 2
    else:
        for index, column in enumerate(table.columns, start=1):
            sheet.cell(header_top, index, column.label)
        header_rows = 1
    for row in range(header_top, header_top + header_rows):
        for index in range(1, width + 1):
            cell = sheet.cell(row, index)
            cell.font = Font(bold=True)
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
            cell.border = BOX
    for row in [*table.rows, *table.foot]:
        sheet.append([value if value != "" else None for value in row.cells])
        at = sheet.max_row
        for index, value in enumerate(row.cells, start=1):
            cell = sheet.cell(at, index)
            cell.border = BOX
            if isinstance(value, Decimal):
                cell.number_format = MONEY_FORMAT
            if row.bold:
                cell.font = Font(bold=True)
            if index == 2 and row.indent:
                cell.alignment = Alignment(indent=row.indent)
    for index, column in enumerate(table.columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    sheet.freeze_panes = sheet.cell(header_top + header_rows, 1)
    for line in notes:
        sheet.append([line])
    if signatures:
        sheet.append([])
        sheet.append([_("Prepared by: ") + "　" * 6 + _("Reviewed by: ") + "　" * 6 + _("Person in charge: ")])
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.orientation = "landscape" if width > 7 else "portrait"
    sheet.page_setup.fitToWidth = 1
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_setup.fitToHeight = 0
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()

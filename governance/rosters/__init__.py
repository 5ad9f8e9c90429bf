"""The roster engine: Excel import and export of every roster, shared by the admin, the
``import_roster``/``export_roster`` commands and the web pages.

A roster (households, residents, grids, grid workers, party members ...) is declared once as
a ``RosterSpec``: its model, its ordered columns and the column(s) that say "the same row".
Apps declare theirs in a ``rosters`` module or package (``grid/rosters/``, ``partybuild/rosters/``);
the registry imports those modules the first time it is asked for a spec, so governance
never imports an app above it. The org chain's own rosters are in ``org``.

Import (``roster_import``), all or nothing, no query per row:

1. the file is read (``tabular``: .xlsx or .csv) and its header row matched to
   the columns, by the header in the active language, in the portal's language or as the
   English msgid; a required column missing is one error and nothing else is checked;
2. every cell is parsed (dates as YYYY-MM-DD, 2026/1/5 or Excel date cells; 是/否/Y/N/1/0;
   choices by label, short form (绿 for 绿色, 大事 for 大事（乡镇）), the county's local name
   (``governance.terms``: 优网格 for 微网格) or value; lists separated by 、 , ; or ；) and the
   key of each row computed: a key seen twice in the file is an error on the second row;
3. references are resolved in bulk, one query per referenced model for the whole file,
   among the rows the user may see (``visible_to``): a code outside his scope is "not
   found", exactly like a code that does not exist;
4. the rows already in the database are loaded by key in bulk; one outside the user's
   scope is refused;
5. every row is built as a model instance with its foreign keys already attached and
   checked as the model's own ``clean_fields()`` would (each field's ``clean()``, foreign
   keys excluded: step 3 checked them; see ``_field_check``) and ``clean()``; then the
   spec's bulk rules run over the file and the database (limits, overlaps, one active
   registration ...). A row with a bad cell goes on through every check that does not read
   that cell (for the specs whose rules say so, ``checks_partial_rows``), and a cell gets one
   message only: one dry run lists every error of every row, none that merely follows from
   another;
6. rows are classified new / changed / unchanged / error. If any error was found nothing
   is written. Otherwise, in one transaction: new rows with bulk inserts (PostgreSQL:
   ids drawn from the sequence in one query, then ``COPY``), changed rows with one
   set-based UPDATE (PostgreSQL: ``COPY`` into a temporary table and ``UPDATE ... FROM``;
   elsewhere ``executemany``), tags and list entries through their tables in bulk (the audit
   trail records each row on PostgreSQL, and the import as one event). A second import of the
   same file finds every row unchanged and writes nothing. On PostgreSQL the big rosters
   (``stream_writes``) write checked rows in batches from a second thread while later
   rows are still being checked (``StreamWriter``); an error rolls those back too. The tables
   written are then ANALYZEd (PostgreSQL), so the next rollup plans for their real sizes.

Export (``roster_export``) streams ``values_list`` rows of the queryset (restricted again
to the user's scope) into an .xlsx file; ID numbers and phones are masked unless the user
may see personal data, a term the row's county names its own way shows that name, and every
export is recorded in ``ExportLog``. The template's instructions list every form a choice
column accepts.

The modules, from the bottom up: ``tabular`` (reading .xlsx/.csv) and ``xlsx`` (writing
.xlsx); ``lookups`` (bulk lookups by key); ``cells`` (cell parsers); ``writing`` (bulk
writes); ``specs`` (columns, ``RosterSpec``, the registry); ``report``; ``checking`` (the
import itself); ``export`` (export and templates); ``admin`` (the admin's buttons and pages).
This package re-exports what an app needs to declare a roster and to run one.
"""

from governance.rosters.cells import (
    Bool,
    Choice,
    Date,
    IdNumber,
    InFile,
    ListOf,
    Number,
    Parser,
    Ref,
    Text,
    Time,
)
from governance.rosters.checking import roster_import
from governance.rosters.export import export_filters, export_response, roster_export, roster_template
from governance.rosters.lookups import chunked
from governance.rosters.specs import (
    PERSONAL_DATE,
    PERSONAL_ID,
    PERSONAL_PHONE,
    ChildEntries,
    Column,
    RosterSpec,
    TagsColumn,
    all_specs,
    get_spec,
    register,
)
from governance.rosters.writing import insert_instances, insert_rows, update_instances

__all__ = [
    "PERSONAL_DATE",
    "PERSONAL_ID",
    "PERSONAL_PHONE",
    "Bool",
    "ChildEntries",
    "Choice",
    "Column",
    "Date",
    "IdNumber",
    "InFile",
    "ListOf",
    "Number",
    "Parser",
    "Ref",
    "RosterSpec",
    "TagsColumn",
    "Text",
    "Time",
    "all_specs",
    "chunked",
    "export_filters",
    "export_response",
    "get_spec",
    "insert_instances",
    "insert_rows",
    "register",
    "roster_export",
    "roster_import",
    "roster_template",
    "update_instances",
]

"""Reading workbooks: the forked reader the import command uses gives exactly what the in-process reader gives."""

import datetime
import io
import os
import zipfile

import openpyxl
import pytest

from governance.rosters import tabular
from governance.rosters.tabular import TableError, read_table


def workbook(rows) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@pytest.fixture
def parallel_always(monkeypatch):
    """Every workbook read in a child, however small; the child's pid recorded."""
    monkeypatch.setattr(tabular, "PARALLEL_MIN_BYTES", 0)
    pids = []
    fork = os.fork

    def recording_fork():
        pid = fork()
        if pid:
            pids.append(pid)
        return pid

    monkeypatch.setattr(tabular.os, "fork", recording_fork)
    return pids


def test_the_child_reads_the_same_rows_as_the_process_itself(parallel_always):
    rows = [["姓名", "出生日期", "人数", "备注"]]
    rows += [[f"居民{i}", datetime.date(1980, 1, 1) + datetime.timedelta(days=i), i, "=1+1" if i == 7 else None]
             for i in range(5000)]
    rows[10] = [None, None, None, None]  # an empty row keeps its number but is skipped
    content = workbook(rows)
    serial = read_table(content)
    parallel = read_table(content, parallel=True)
    assert parallel.headers == serial.headers == ["姓名", "出生日期", "人数", "备注"]
    read_in_child = list(parallel.rows)
    assert read_in_child == list(serial.rows)
    assert len(read_in_child) == 4999 and read_in_child[0] == (2, ["居民0", datetime.date(1980, 1, 1), 0])
    assert 11 not in {number for number, _cells in read_in_child}
    assert len(parallel_always) == 1


def test_a_broken_workbook_is_the_same_clear_error_from_the_child(parallel_always):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook><sheets><sheet name='a' r:id='rId1'/></sheets></workbook>")
    with pytest.raises(TableError) as serial:
        read_table(buffer.getvalue())
    with pytest.raises(TableError) as parallel:
        read_table(buffer.getvalue(), parallel=True)
    assert str(parallel.value) == str(serial.value)


def test_the_child_is_reaped_when_the_reader_stops_early(parallel_always):
    content = workbook([["a"], *[[f"row {i}"] for i in range(20000)]])
    table = read_table(content, parallel=True)
    assert next(table.rows) == (2, ["row 0"])
    table.rows.close()
    (pid,) = parallel_always
    with pytest.raises(ChildProcessError):  # already waited for: no zombie left behind
        os.waitpid(pid, os.WNOHANG)

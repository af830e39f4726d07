"""A workbook read in bulk (fastexcel into Arrow) gives the very table the cell-by-cell reader
gives: same text per cell, same row numbers, same columns."""

from __future__ import annotations

import datetime as dt
import io
import random
import zipfile
from typing import Any

import openpyxl
import pandas as pd
import pytest

from batch.loading import bulk, xlsxfile

TEXTS = ["ann@example.com", "Licensed", "  ", "", "R&D", "x<y", "1.000", "TRUE", "Ünïcode", "0"]
NUMBERS: list[Any] = [0, 1, 500, 1000.0, 12.5, 0.1, -3, 123456789012345, 0.30000000000000004]


def _workbook(cells: dict[tuple[int, int], Any], number_format: str | None = None) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for (row, column), value in cells.items():
        cell = sheet.cell(row=row, column=column, value=value)
        if number_format:
            cell.number_format = number_format
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _cell_by_cell(data: bytes, monkeypatch: pytest.MonkeyPatch) -> pd.DataFrame:
    with monkeypatch.context() as patch:
        patch.setattr(bulk, "read", lambda *_: None)
        return xlsxfile.read_table(data).table


def _compact(table: pd.DataFrame) -> dict[tuple[int, int], str]:
    """The table's non-empty cells by (row, column): the cell-by-cell table also holds the
    empty rows above the first cell, which the header search skips anyway."""
    return {
        (int(row), int(column)): str(table.iat[i, j])
        for i, row in enumerate(table.index)
        for j, column in enumerate(table.columns)
        if table.iat[i, j] != ""
    }


@pytest.mark.parametrize("seed", range(8), ids=[f"seed{s}" for s in range(8)])
def test_bulk_table_matches_cell_by_cell(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Random sheets of texts and plain numbers anywhere on the sheet read alike both ways."""
    pick = random.Random(seed)
    top, left = pick.randint(1, 5), pick.randint(1, 4)
    cells = {
        (top + pick.randrange(30), left + pick.randrange(6)): pick.choice(TEXTS + NUMBERS)
        for _ in range(pick.randint(1, 120))
    }
    data = _workbook(cells)
    used: list[bool] = []
    real = bulk.read

    def counted(*args: Any) -> pd.DataFrame | None:
        table = real(*args)
        used.append(table is not None)
        return table

    with monkeypatch.context() as patch:
        patch.setattr(bulk, "read", counted)
        read = xlsxfile.read_table(data)
    assert used == [True], "the sheet is plain: it is read in bulk"
    expected = _cell_by_cell(data, monkeypatch)
    assert _compact(read.table) == _compact(expected)
    assert list(read.table.columns) == list(expected.columns)
    assert read.table.index[-1] == expected.index[-1]


@pytest.mark.parametrize(
    ("value", "number_format", "text"),
    [
        (True, None, "TRUE"),
        (dt.datetime(2024, 5, 1), None, "2024-05-01"),
        (dt.datetime(2024, 5, 1, 13, 5), None, "2024-05-01 13:05:00"),
        (45413, "yyyy-mm-dd", "2024-05-01"),
        (1e-7, None, "1e-07"),
        (1e20, None, "100000000000000000000"),
        (-0.0, None, "0"),
    ],
    ids=["bool", "date", "datetime", "date-format", "tiny", "huge", "minus-zero"],
)
def test_cells_bulk_would_misread_are_read_as_shown(
    value: Any, number_format: str | None, text: str
) -> None:
    """A sheet holding a cell whose bulk text would differ keeps the text Excel shows."""
    cells = {(1, 1): "Email", (1, 2): "Note", (2, 1): "a@b.c", (2, 2): value}
    data = _workbook(cells, number_format)
    assert xlsxfile.read_table(data).table.loc[2, 1] == text


def _with_own_format(data: bytes, code: str) -> bytes:
    """The workbook with its one cell style on a format of its own (id 164) of `code`, as
    LibreOffice saves its default style ("General"), and B2 styled with it."""
    source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            part = source.read(info)
            if info.filename == "xl/styles.xml":
                text = part.decode()
                text = text.replace(
                    '<numFmts count="0"/>',
                    f'<numFmts count="1"><numFmt numFmtId="164" formatCode="{code}"/></numFmts>',
                )
                head, xfs = text.split("<cellXfs", 1)
                part = (
                    head + "<cellXfs" + xfs.replace('numFmtId="0"', 'numFmtId="164"', 1)
                ).encode()
            elif info.filename == "xl/worksheets/sheet1.xml":  # the number cell names its style
                part = part.replace(b'<c r="B2" t="n">', b'<c r="B2" s="0" t="n">')
            target.writestr(info, part)
    return out.getvalue()


@pytest.mark.parametrize(
    ("code", "bulk_used", "text"),
    [("General", True, "45413"), ("0.00", True, "45413"), ("yyyy-mm-dd", False, "2024-05-01")],
    ids=["general", "decimals", "date"],
)
def test_own_number_formats_by_their_code(
    code: str, bulk_used: bool, text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A format of the workbook's own whose code is a plain one (LibreOffice's "General")
    reads in bulk; one that shows a date is read cell by cell, as the admin sees it."""
    data = _with_own_format(_workbook({(1, 1): "Email", (1, 2): "Note", (2, 1): "a@b.c",
                                       (2, 2): 45413}), code)  # fmt: skip
    used: list[bool] = []
    real = bulk.read

    def counted(*args: Any) -> pd.DataFrame | None:
        used.append(True)
        return real(*args)

    with monkeypatch.context() as patch:
        patch.setattr(bulk, "read", counted)
        table = xlsxfile.read_table(data).table
    assert bool(used) is bulk_used
    assert table.loc[2, 1] == text

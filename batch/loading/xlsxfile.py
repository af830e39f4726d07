"""XLSX workbooks to a table of cells with python-calamine: the first sheet that has our header."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime, time, timedelta
from typing import Final

import pandas as pd
from python_calamine import CalamineWorkbook

from batch.loading.headers import field_of, is_recognisable

ZIP_MAGIC: Final = b"PK\x03\x04"
OLE_MAGIC: Final = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, and password-protected .xlsx
_WORKBOOK_PART: Final = "xl/workbook.xml"

Cell = int | float | str | bool | time | date | datetime | timedelta


class NotAWorkbook(Exception):
    """The zip archive is not an .xlsx workbook (a .docx, a plain zip, a damaged file)."""


def cell_text(value: Cell) -> str:
    """A cell as the admin reads it: 1000.0 -> "1000", TRUE -> "TRUE", a date -> 2024-05-01.

    >>> cell_text(1000.0), cell_text(12.5), cell_text(True), cell_text(datetime(2024, 5, 1))
    ('1000', '12.5', 'TRUE', '2024-05-01')
    """
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def _is_blank(row: list[Cell]) -> bool:
    return all(cell_text(v).strip() == "" for v in row)


def _first_row(rows: list[list[Cell]]) -> list[str] | None:
    """The first non-empty row of a sheet, as text; None for an empty sheet."""
    for row in rows:
        if not _is_blank(row):
            return [cell_text(v) for v in row]
    return None


def read_table(data: bytes) -> pd.DataFrame:
    """The chosen sheet's cells as text columns 0..n-1, indexed by the sheet's own row numbers.

    The chosen sheet is the first whose first non-empty row is a recognisable header; failing
    that, the first whose first row names any known column (so the refusal names what is
    missing there), else the first non-empty sheet. An empty workbook gives an empty table.
    Raises NotAWorkbook when the bytes are not an .xlsx workbook.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if _WORKBOOK_PART not in archive.namelist():
                raise NotAWorkbook
    except zipfile.BadZipFile as error:
        raise NotAWorkbook from error
    workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
    sheets: list[list[list[Cell]]] = []
    for name in workbook.sheet_names:
        try:
            sheets.append(workbook.get_sheet_by_name(name).to_python(skip_empty_area=False))
        except Exception:  # a chart or macro sheet has no cells: not ours
            sheets.append([])
    firsts = [_first_row(rows) for rows in sheets]
    chosen = next((i for i, f in enumerate(firsts) if f and is_recognisable(f)), None)
    if chosen is None:
        chosen = next((i for i, f in enumerate(firsts) if f and any(map(field_of, f))), None)
    if chosen is None:
        chosen = next((i for i, f in enumerate(firsts) if f), None)
    if chosen is None:
        return pd.DataFrame()
    return _to_table(sheets[chosen])


def _to_table(rows: list[list[Cell]]) -> pd.DataFrame:
    """Rows of cell values to text columns, column by column; index = sheet row number."""
    width = max((len(r) for r in rows), default=0)
    columns: dict[int, list[str]] = {}
    for position in range(width):
        columns[position] = [cell_text(r[position]) if position < len(r) else "" for r in rows]
    table = pd.DataFrame(columns, dtype="str")
    table.index = pd.RangeIndex(1, len(rows) + 1)
    return table

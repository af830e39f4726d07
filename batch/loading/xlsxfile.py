"""XLSX workbooks to a table of cells with python-calamine: the first sheet that has our header."""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from datetime import date, datetime, time, timedelta
from typing import Final

import pandas as pd
from python_calamine import CalamineWorkbook, SheetVisibleEnum

from batch.loading.headers import field_of, is_recognisable

ZIP_MAGIC: Final = b"PK\x03\x04"
OLE_MAGIC: Final = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, and password-protected .xlsx
_WORKBOOK_PART: Final = "xl/workbook.xml"

# Guards checked before python-calamine reads anything: it inflates every part whole and holds
# a sheet as a dense grid from A1 to its farthest cell, so a zip bomb or one stray cell in
# XFD1048576 would take all memory (and abort the process) instead of raising.
MAX_INFLATED_BYTES: Final = 1 << 30  # all parts together, as the zip declares them
MAX_RATIO: Final = 100  # a part larger than _RATIO_FROM inflating more than this is a bomb
_RATIO_FROM: Final = 16 << 20
MAX_SHEET_CELLS: Final = 50_000_000  # the dense grid: rows x columns
_CHUNK: Final = 1 << 20
_ROW_TAG: Final = re.compile(rb"<(?:\w+:)?row\b")
_ROW_REF: Final = re.compile(rb'<(?:\w+:)?row\b[^>]*?\br="(\d{1,9})"')
_CELL_TAG: Final = re.compile(rb"<(?:\w+:)?c[\s>/]")
_ANY_CELL_REF: Final = re.compile(rb'<(?:\w+:)?c\s[^>]*?\br="')
# A cell with a reference and content (a self-closing cell holds only a style: calamine skips it).
_CELL_REF: Final = re.compile(rb'<(?:\w+:)?c\s[^>]*?\br="([A-Z]{1,3})(\d{1,9})"[^>]*(?<!/)>')

Cell = int | float | str | bool | time | date | datetime | timedelta


class NotAWorkbook(Exception):
    """The zip archive is not an .xlsx workbook (a .docx, a plain zip, a damaged file)."""


class TooLarge(Exception):
    """The workbook would unpack past a guard; str(e) says which, for the refusal line."""


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

    Hidden sheets are left out. The chosen sheet is the first whose first non-empty row is a
    recognisable header; failing that, the first whose first row names any known column (so
    the refusal names what is missing there), else the first non-empty sheet. An empty
    workbook gives an empty table.
    Raises NotAWorkbook when the bytes are not an .xlsx workbook, TooLarge when it would unpack
    past MAX_INFLATED_BYTES (or inflate more than MAX_RATIO times) or a sheet spans more than
    MAX_SHEET_CELLS.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if _WORKBOOK_PART not in archive.namelist():
                raise NotAWorkbook
            _check_unpacked_size(archive)
            for info in archive.infolist():
                if info.filename.endswith(".xml"):
                    _check_sheet_extent(archive, info)
    except (zipfile.BadZipFile, zlib.error, EOFError) as error:
        raise NotAWorkbook from error
    workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
    sheets: list[list[list[Cell]]] = []
    for sheet in workbook.sheets_metadata:
        name = sheet.name
        if sheet.visible != SheetVisibleEnum.Visible:
            continue  # the admin cannot see it: old data kept out of sight is not the request
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


def _check_unpacked_size(archive: zipfile.ZipFile) -> None:
    """Refuse a zip bomb by the sizes the zip declares, before inflating anything."""
    infos = archive.infolist()
    total = sum(i.file_size for i in infos)
    if total > MAX_INFLATED_BYTES:
        raise TooLarge(
            f"unpacks to {total:,} bytes, more than a workbook may ({MAX_INFLATED_BYTES:,}): "
            "a damaged file or a zip bomb"
        )
    for info in infos:
        if info.file_size > _RATIO_FROM and info.file_size > MAX_RATIO * info.compress_size:
            raise TooLarge(
                f"its part {info.filename} inflates {info.file_size // info.compress_size:,} "
                f"times ({info.compress_size:,} to {info.file_size:,} bytes): a zip bomb, "
                "not a saved sheet"
            )


def _check_sheet_extent(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """Refuse a sheet whose grid from A1 to its farthest cell is too big to hold.

    Streams the part (zipfile stops at the declared size and checks the CRC, so a part that
    lies about its size fails as damaged) and reads the rows' and cells' references.
    """
    last_row = last_column = rows = cells = referenced = 0
    rest = b""
    with archive.open(info) as part:
        while True:
            chunk = part.read(_CHUNK)
            text = rest + chunk
            # Read up to the last complete tag; the remainder goes in front of the next chunk.
            cut = text.rfind(b">") + 1 if chunk else len(text)
            text, rest = text[:cut], text[cut:]
            rows += len(_ROW_TAG.findall(text))
            cells += len(_CELL_TAG.findall(text))
            referenced += len(_ANY_CELL_REF.findall(text))
            for number in _ROW_REF.findall(text):
                last_row = max(last_row, int(number))
            for letters, number in _CELL_REF.findall(text):
                last_row = max(last_row, int(number))
                last_column = max(last_column, _column_number(letters))
            if not chunk:
                break
    # Cells without a reference take the next column: at most one per such cell.
    height, width = max(last_row, rows), last_column + max(cells - referenced, 0)
    if height * width > MAX_SHEET_CELLS:
        raise TooLarge(
            f"a sheet spans {height:,} rows by {width:,} columns ({height * width:,} cells, "
            f"the most is {MAX_SHEET_CELLS:,}): delete the stray cells far below or right of "
            "the data"
        )


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


def _to_table(rows: list[list[Cell]]) -> pd.DataFrame:
    """Rows of cell values to text columns, column by column; index = sheet row number."""
    width = max((len(r) for r in rows), default=0)
    columns: dict[int, list[str]] = {}
    for position in range(width):
        columns[position] = [cell_text(r[position]) if position < len(r) else "" for r in rows]
    table = pd.DataFrame(columns, dtype="str")
    table.index = pd.RangeIndex(1, len(rows) + 1)
    return table

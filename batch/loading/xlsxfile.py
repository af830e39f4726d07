"""XLSX workbooks to a table of cells with python-calamine: the sheet the admin means.

The sheet is the one named by `--sheet`; else the active (selected) sheet when it has our
header; else the only sheet that has one. Several candidates and none active refuse the file,
naming them. An Excel table's Totals row is not data. Guards on the zip, the shared strings and
each sheet's extent run before anything is unpacked.

A sheet known without reading cells (`--sheet`, or the only visible one) whose cells are all
texts and plain numbers is read in bulk (bulk.py: no Python object per cell); any other sheet,
or a choice among several, cell by cell with python-calamine and cell_text. Both give the same
table.
"""

from __future__ import annotations

import html
import io
import logging
import os
import posixpath
import re
import sys
import tempfile
import threading
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Final

import pandas as pd
from python_calamine import CalamineSheet, CalamineWorkbook, SheetVisibleEnum

from batch.loading import bulk
from batch.loading.headers import HEADER_SEARCH_ROWS, field_of, is_recognisable
from batch.loading.sheetscan import Extent, scan, styled_formats
from batch.settings import Limits

log = logging.getLogger(__name__)

_WORKBOOK_PART: Final = "xl/workbook.xml"

# Guards checked before python-calamine reads anything: it inflates every part whole and holds
# a sheet as a dense grid from A1 to its farthest cell, so a zip bomb or one stray cell in
# XFD1048576 would take all memory (and abort the process) instead of raising.
MAX_INFLATED_BYTES: Final = 512 << 20  # all parts together, as the zip declares them (text
# is held about three times over once read: 512 MiB keeps a workbook of long texts under 2 GiB)
MAX_RATIO: Final = 100  # a part larger than _RATIO_FROM inflating more than this is a bomb
_RATIO_FROM: Final = 16 << 20
GRID_PER_CELL: Final = 4  # a sheet's grid (empty cells too) may span this many times max_cells
_META_BYTES: Final = 16 << 20  # workbook.xml, relationships and table parts are small
_SHARED_STRINGS_PART: Final = "xl/sharedStrings.xml"
_STRING_TAG: Final = re.compile(rb"<(?:\w+:)?si[\s>/]")
_TAG: Final = re.compile(r"<(?:\w+:)?(sheet|Relationship|table|workbookView)\b([^>]*)>")
_ATTR: Final = re.compile(r'(?:\w+:)?(\w+)="([^"]*)"')
_CHUNK: Final = 1 << 20
_STYLES_PART: Final = "xl/styles.xml"

Cell = int | float | str | bool | time | date | datetime | timedelta


class NotAWorkbook(Exception):
    """The zip archive is not an .xlsx workbook (a .docx, a plain zip, a damaged file)."""


class TooLarge(Exception):
    """The workbook would unpack past a guard; str(e) says which, for the refusal line."""


class SheetChoice(Exception):
    """No sheet can be chosen without guessing; str(e) names the sheets and how to choose."""


class CellOutOfRange(Exception):
    """The reader cannot turn a cell into a value: in practice a number far outside Excel's
    dates in a cell formatted as a date or time (python-calamine raises OverflowError, or its
    Rust side panics, which is no Exception at all); str(e) says so, for the refusal line."""


@contextmanager
def _cells_read() -> Iterator[None]:
    """Turn the reader's failure on a cell into CellOutOfRange. A panic of its Rust side also
    writes its own lines (and with RUST_BACKTRACE set, a backtrace) straight to stderr, where
    a nightly run keeps one JSON object per line: while the reader works, stderr goes to a
    file, written back unless the reader panicked (then only logged, at debug level)."""
    with _stderr_kept() as kept:
        try:
            yield
        except OverflowError as error:
            raise CellOutOfRange(_OUT_OF_RANGE.format(error)) from error
        except BaseException as error:
            if not bulk.panicked(error):
                raise
            kept.dropped = True
            raise CellOutOfRange(_OUT_OF_RANGE.format(" ".join(str(error).split()))) from None


@dataclass
class _Kept:
    dropped: bool = False  # what was written meanwhile is the reader's panic: not shown


_STDERR_LOCK: Final = threading.Lock()  # one redirection at a time (the web app's threads)


@contextmanager
def _stderr_kept() -> Iterator[_Kept]:
    """File descriptor 2 into a temporary file for the block, then back (see _cells_read)."""
    kept = _Kept()
    with _STDERR_LOCK, tempfile.TemporaryFile() as held:
        try:
            sys.stderr.flush()
            saved = os.dup(2)
        except (OSError, ValueError):  # no stderr at all: nothing to keep clean
            yield kept
            return
        os.dup2(held.fileno(), 2)
        try:
            yield kept
        finally:
            with suppress(OSError, ValueError):
                sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            held.seek(0)
            written = held.read()
            if kept.dropped:
                log.debug("the workbook reader panicked: %s", written.decode(errors="replace"))
            elif written:
                os.write(2, written)


_OUT_OF_RANGE: Final = (
    "a cell cannot be read ({}): most likely a number far outside Excel's dates in a cell "
    "formatted as a date or time; format such cells as numbers or text, or correct them, and "
    "save again"
)


@dataclass(frozen=True)
class Sheet:
    """The chosen sheet's cells as text (index = the sheet's row numbers) and what to say."""

    table: pd.DataFrame
    name: str | None  # None for an empty workbook
    notes: tuple[str, ...] = ()  # e.g. a table's Totals row left out


@dataclass(frozen=True)
class _SheetPart:
    """One sheet as workbook.xml lists it."""

    name: str
    visible: bool
    path: str  # the part inside the zip, "" when its relationship is missing
    totals: tuple[tuple[str, int, int], ...]  # (table name, first row, last row) of Totals rows


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


def _text_rows(rows: Iterator[list[Cell]]) -> list[list[str]]:
    """The first non-empty rows of a sheet as text, as many as the header search looks at."""
    found: list[list[str]] = []
    for row in rows:
        texts = [cell_text(v) for v in row]
        if any(t.strip() for t in texts):
            found.append(texts)
            if len(found) >= HEADER_SEARCH_ROWS:
                break
    return found


def _has_header(rows: list[list[str]]) -> bool:
    return any(is_recognisable(r) for r in rows)


def _names_a_column(rows: list[list[str]]) -> bool:
    return any(any(map(field_of, r)) for r in rows)


def read_table(data: bytes, limits: Limits = Limits(), sheet: str | None = None) -> Sheet:  # noqa: B008  # frozen
    """The chosen sheet's cells as text columns 0..n-1, indexed by the sheet's own row numbers.

    `sheet` names the sheet to read (any case). Otherwise: the active sheet when it has a
    recognisable header among its first non-empty rows; else the only visible sheet that has
    one. Hidden sheets are never chosen unasked. When none has one, the first sheet naming any
    known column (so the refusal names what is missing there), else the first non-empty one. An
    empty workbook gives an empty table.

    Raises NotAWorkbook when the bytes are not an .xlsx workbook, TooLarge when it would unpack
    past MAX_INFLATED_BYTES (or inflate more than MAX_RATIO times), hold more than
    `limits.max_shared_strings` shared strings or a sheet spans more than `limits.max_cells`,
    and SheetChoice when `sheet` is not there or several sheets qualify and none is active.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if _WORKBOOK_PART not in archive.namelist():
                raise NotAWorkbook
            _check_unpacked_size(archive)
            _check_shared_strings(archive, limits)
            odd_styles = _odd_styles(archive)
            extents = {
                info.filename: _check_sheet_extent(archive, info, limits, odd_styles or frozenset())
                for info in archive.infolist()
                if info.filename.endswith(".xml")
            }
            parts, active = _workbook_parts(archive)
    except (zipfile.BadZipFile, zlib.error, EOFError) as error:
        raise NotAWorkbook from error
    workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
    names = [m.name for m in workbook.sheets_metadata]
    visible = [m.visible == SheetVisibleEnum.Visible for m in workbook.sheets_metadata]
    chosen = _named(names, sheet) if sheet is not None else _only(visible)
    table = None
    if chosen is not None and odd_styles is not None:
        part = next((p for p in parts if p.name == names[chosen]), None)
        extent = extents.get(part.path) if part else None
        if extent is not None and extent.plain and extent.last and extent.first:
            table = bulk.read(data, names[chosen], extent.first, extent.last)
            if table is not None and sheet is None and not _any_text(table):
                return Sheet(pd.DataFrame(), None)  # only spaces: as the sheet-by-sheet choice
        elif extent is not None and extent.plain and extent.last is None and sheet is None:
            return Sheet(pd.DataFrame(), None)  # the only sheet holds no cell
    if table is None or chosen is None:
        opened: dict[int, CalamineSheet | None] = {}  # each sheet is parsed once
        if sheet is None:
            chosen = _choose(workbook, names, visible, active, opened)
        if chosen is None:
            return Sheet(pd.DataFrame(), None)
        found = opened.pop(chosen, None) if chosen in opened else _open(workbook, names[chosen])
        opened.clear()
        rows = _rows(found)
        del found
        table = _to_table(rows)
        del rows
    part = next((p for p in parts if p.name == names[chosen]), None)
    notes = []
    for table_name, first, last in part.totals if part else ():
        inside = [r for r in range(first, last + 1) if r in table.index]
        if inside:
            table.loc[inside, :] = ""
            shown = f"row {first}" if first == last else f"rows {first}-{last}"
            notes.append(f"{shown}: the Totals row of table {table_name}, not read as data")
    return Sheet(table, names[chosen], tuple(notes))


def _any_text(table: pd.DataFrame) -> bool:
    """Whether a cell holds more than blanks (the first column with one ends the search)."""
    return any(bool(table[column].str.strip().ne("").any()) for column in table.columns)


def _open(workbook: CalamineWorkbook, name: str) -> CalamineSheet | None:
    with _cells_read():
        try:
            return workbook.get_sheet_by_name(name)
        except OverflowError:
            raise  # a cell out of range: _cells_read says so
        except Exception:  # a chart or macro sheet has no cells: not ours
            return None


def _rows(sheet: CalamineSheet | None) -> list[list[Cell]]:
    if sheet is None:
        return []
    with _cells_read():
        rows: list[list[Cell]] = sheet.to_python(skip_empty_area=False)
    return rows


def _head(sheet: CalamineSheet | None) -> list[list[str]]:
    """A sheet's first non-empty rows as text, without converting the rest of it."""
    if sheet is None:
        return []
    with _cells_read():
        return _text_rows(sheet.iter_rows())


def _named(names: list[str], wanted: str) -> int:
    """The position of the sheet `--sheet` names (any case)."""
    folded = [n.casefold() for n in names]
    if wanted.strip().casefold() not in folded:
        listed = ", ".join(f"'{n}'" for n in names)
        raise SheetChoice(f"has no sheet '{wanted}': its sheets are {listed}")
    return folded.index(wanted.strip().casefold())


def _only(visible: list[bool]) -> int | None:
    """The only visible sheet, the one read_table would choose without reading a cell."""
    shown = [i for i, v in enumerate(visible) if v]
    return shown[0] if len(shown) == 1 else None


def _choose(
    workbook: CalamineWorkbook,
    names: list[str],
    visible: list[bool],
    active: int,
    opened: dict[int, CalamineSheet | None],
) -> int | None:
    """The position of the sheet to read (see read_table), or None for an empty workbook."""
    for i, name in enumerate(names):
        if visible[i]:
            opened[i] = _open(workbook, name)
    heads = {i: _head(opened[i]) for i in opened}
    with_header = [i for i, rows in heads.items() if _has_header(rows)]
    if active in with_header:
        return active
    if len(with_header) == 1:
        return with_header[0]
    if with_header:
        listed = ", ".join(f"'{names[i]}'" for i in with_header)
        shown = f" (the active sheet is '{names[active]}')" if 0 <= active < len(names) else ""
        raise SheetChoice(
            f"several sheets have a header we recognise ({listed}) and none of them is the "
            f"active sheet{shown}: choose one with --sheet NAME"
        )
    for test in (_names_a_column, bool):
        found = next((i for i, rows in heads.items() if test(rows)), None)
        if found is not None:
            return found
    return None


def _workbook_parts(archive: zipfile.ZipFile) -> tuple[list[_SheetPart], int]:
    """The sheets as workbook.xml lists them (with their tables' Totals rows) and the index of
    the active one (Excel's `activeTab`, 0 when absent)."""
    workbook = _small_part(archive, _WORKBOOK_PART)
    active = 0
    sheets: list[tuple[str, bool, str]] = []
    for tag, attrs in _tags(workbook):
        if tag == "workbookView" and "activeTab" in attrs:
            active = int(attrs["activeTab"]) if attrs["activeTab"].isdigit() else 0
        elif tag == "sheet":
            visible = attrs.get("state", "visible") == "visible"
            sheets.append((html.unescape(attrs.get("name", "")), visible, attrs.get("id", "")))
    targets = _relationships(archive, _WORKBOOK_PART)
    parts = []
    for name, visible, rel in sheets:
        sheet_part = targets.get(rel, "")
        totals = []
        for table_part in _relationships(archive, sheet_part).values():
            if "/tables/" not in table_part:
                continue
            attrs = next(
                (a for t, a in _tags(_small_part(archive, table_part)) if t == "table"), {}
            )
            count = attrs.get("totalsRowCount", "0")
            end = re.search(r"(\d+)$", attrs.get("ref", ""))
            if count.isdigit() and int(count) > 0 and end:
                last = int(end.group(1))
                table_name = attrs.get("displayName") or attrs.get("name") or "?"
                totals.append((table_name, last - int(count) + 1, last))
        parts.append(_SheetPart(name, visible, sheet_part, tuple(totals)))
    # activeTab counts every sheet in workbook.xml's order, which calamine keeps
    return parts, active


def _small_part(archive: zipfile.ZipFile, name: str) -> str:
    """A small XML part as text ("" when missing or too big to be what it claims)."""
    try:
        info = archive.getinfo(name)
    except KeyError:
        return ""
    if info.file_size > _META_BYTES:
        return ""
    return archive.read(info).decode("utf-8", errors="replace")


def _tags(xml: str) -> Iterator[tuple[str, dict[str, str]]]:
    for match in _TAG.finditer(xml):
        yield match.group(1), dict(_ATTR.findall(match.group(2)))


def _relationships(archive: zipfile.ZipFile, part: str) -> dict[str, str]:
    """A part's relationships: id -> the target's path inside the zip."""
    if not part:
        return {}
    folder, base = posixpath.split(part)
    xml = _small_part(archive, posixpath.join(folder, "_rels", base + ".rels"))
    found = {}
    for tag, attrs in _tags(xml):
        if tag == "Relationship" and "Id" in attrs and "Target" in attrs:
            target = attrs["Target"]
            path = target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
            found[attrs["Id"]] = posixpath.normpath(path)
    return found


def _check_shared_strings(archive: zipfile.ZipFile, limits: Limits) -> None:
    """Refuse a workbook whose shared-strings table holds more entries than max_shared_strings.

    Each entry costs memory once unpacked, however short it is in the file: 40 million tiny
    strings in a 200 MB file would take gigabytes.
    """
    try:
        info = archive.getinfo(_SHARED_STRINGS_PART)
    except KeyError:
        return
    count = 0
    rest = b""
    with archive.open(info) as part:
        while chunk := part.read(_CHUNK):
            text = rest + chunk
            cut = text.rfind(b"<")
            text, rest = text[:cut], text[cut:]
            count += len(_STRING_TAG.findall(text))
            if count > limits.max_shared_strings:
                break
    count += len(_STRING_TAG.findall(rest))
    if count > limits.max_shared_strings:
        raise TooLarge(
            f"it holds more than {limits.max_shared_strings:,} distinct texts (shared strings), "
            f"the limit (max_shared_strings): save it as CSV, or split it"
        )


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


def _check_sheet_extent(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, limits: Limits, odd_styles: frozenset[int]
) -> Extent:
    """Refuse a sheet whose grid from A1 to its farthest cell is too big to hold; else what
    the pass found (see sheetscan)."""
    extent = scan(archive, info, odd_styles)
    height, width, cells = extent.height, extent.width, extent.cells
    grid = GRID_PER_CELL * limits.max_cells
    if cells > limits.max_cells:
        raise TooLarge(
            f"a sheet has {cells:,} filled cells, the limit (max_cells) is "
            f"{limits.max_cells:,}: save it as CSV, or split it"
        )
    if height * width > grid:
        raise TooLarge(
            f"a sheet spans {height:,} rows by {width:,} columns ({height * width:,} cells, "
            f"the most is {grid:,}, {GRID_PER_CELL} times max_cells): delete the stray cells "
            "far below or right of the data, or save the sheet as CSV"
        )
    return extent


def _odd_styles(archive: zipfile.ZipFile) -> frozenset[int] | None:
    """The styles whose numbers may not read as plain numbers; None when styles.xml cannot be
    read (then no sheet is read in bulk)."""
    try:
        info = archive.getinfo(_STYLES_PART)
    except KeyError:
        return frozenset()
    xml = _small_part(archive, _STYLES_PART)
    return styled_formats(xml) if xml or not info.file_size else None


def _to_table(rows: list[list[Cell]]) -> pd.DataFrame:
    """Rows of cell values to text columns, column by column; index = sheet row number."""
    width = max((len(r) for r in rows), default=0)
    columns: dict[int, list[str]] = {}
    for position in range(width):
        columns[position] = [cell_text(r[position]) if position < len(r) else "" for r in rows]
    table = pd.DataFrame(columns, dtype="str")
    table.index = pd.RangeIndex(1, len(rows) + 1)
    return table

"""Save the workbook with the big tables' rows streamed in as XML.

openpyxl writes the whole workbook (styles, Summary, chart, Seats, Chargeback) and, for each
table sheet, its frame: widths, frozen header, filter over the real range, print setup and the
header row. Its per-cell writer costs ~8 µs a cell, so the data rows are not given to it: when
the workbook is saved, each table sheet's part is copied into the final zip with the rows
written before `</sheetData>`, a block of lines at a time: the block's columns are prepared
(`columns`: cell XML per distinct value), joined into `<row>` elements with pyarrow and written
to the zip entry, so memory stays that of one block whatever the table's size.

    save_workbook(wb, path, [TableRows("Results", 0, n, 8, prepare), ...])
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Final
from zipfile import ZIP_DEFLATED, ZipFile

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from batch.report.columns import XmlColumn, literal

COMPRESS_LEVEL: Final = 1  # deflate level: 1 is ~3x faster than 6 for a few % more bytes
BLOCK_ROWS: Final = 10_000  # lines prepared and written at a time
BLOCK_CELLS: Final = 200_000  # ... fewer when the table is wide (a wide file's Problems)
FIRST_DATA_ROW: Final = 2  # under the header row
LINE_HEIGHT: Final = 15.0  # points per line of Calibri 11 text; a wrapped row is this x lines
MAX_LINES: Final = 27  # 27 lines of 15 points: Excel's limit of 409 points a row

_MAIN: Final = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_RELS: Final = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_REL_ID: Final = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


@dataclass(frozen=True)
class TableRows:
    """The data lines [start, stop) of one table sheet, written under its header row on save."""

    title: str
    start: int
    stop: int
    width: int  # number of columns
    prepare: Callable[[int, int], Sequence[XmlColumn]]  # the columns of lines [a, b)

    @property
    def rows(self) -> int:
        """Number of data rows."""
        return self.stop - self.start


def save_workbook(
    wb: Workbook,
    target: Path,
    tables: Sequence[TableRows],
    *,
    compresslevel: int = COMPRESS_LEVEL,
) -> None:
    """Save `wb` at `target` with each table's rows in its sheet (which holds the header only)."""
    frame = io.BytesIO()
    wb.save(frame)
    with ZipFile(frame) as source:
        parts = _sheet_parts(source)
        by_part = {parts[table.title]: table for table in tables if table.rows}
        with ZipFile(target, "w", ZIP_DEFLATED, compresslevel=compresslevel) as out:
            for info in source.infolist():
                data = source.read(info)
                table = by_part.get(info.filename)
                if table is None:
                    out.writestr(info.filename, data)
                    continue
                end = data.rindex(b"</sheetData>")
                with out.open(info.filename, "w", force_zip64=True) as stream:
                    stream.write(data[:end])
                    write_rows(stream, table)
                    stream.write(data[end:])


def write_rows(stream: IO[bytes], table: TableRows) -> None:
    """Write the table's `<row>` elements, from sheet row 2 on, a block of lines at a time."""
    letters = [literal(f'<c r="{get_column_letter(n)}') for n in range(1, table.width + 1)]
    step = max(1, min(BLOCK_ROWS, BLOCK_CELLS // max(table.width, 1)))
    for start in range(table.start, table.stop, step):
        stop = min(start + step, table.stop)
        first = start - table.start + FIRST_DATA_ROW
        numbers = np.arange(first, first + stop - start, dtype=np.int64)
        row_numbers = pc.cast(pa.array(numbers), pa.large_string())
        columns = table.prepare(start, stop)
        cells = [
            pc.binary_join_element_wise(letter, row_numbers, column.block(), literal(""))
            for letter, column in zip(letters, columns, strict=True)
        ]
        rows = pc.binary_join_element_wise(
            literal('<row r="'), row_numbers, _row_heights(columns), *cells, literal("</row>"),
            literal(""), null_handling="replace",
        )  # fmt: skip
        stream.write(_joined(rows))


def _row_heights(columns: Sequence[XmlColumn]) -> Any:
    """The end of each `<row` start tag: `">`, or a height that shows every wrapped line."""
    wrapping = [c for c in columns if c.lines is not None]
    if not wrapping:
        return literal('">')
    # Excel's tallest row is 409 points: a longer text scrolls in its cell
    lines = np.minimum(np.max([c.lines[c.codes] for c in wrapping], axis=0), MAX_LINES)
    attrs = [
        '">' if n <= 1 else f'" ht="{n * LINE_HEIGHT:g}" customHeight="1">'
        for n in range(int(lines.max()) + 1)
    ]
    return pa.array(attrs, type=pa.large_string()).take(pa.array(lines))


def _joined(strings: pa.Array) -> memoryview:
    """All strings of a (null-free) pyarrow string array back to back, without a copy."""
    offsets = np.frombuffer(strings.buffers()[1], dtype=np.int64)
    first, last = offsets[strings.offset], offsets[strings.offset + len(strings)]
    return memoryview(strings.buffers()[2])[first:last]


def _sheet_parts(archive: ZipFile) -> dict[str, str]:
    """Sheet title -> its part's name in the zip, from the workbook and its relationships."""
    # Both parts were just written by openpyxl, not read from outside.
    workbook = ET.fromstring(archive.read("xl/workbook.xml"))
    rels = ET.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    targets = {rel.get("Id"): str(rel.get("Target")) for rel in rels.iter(f"{_RELS}Relationship")}
    parts: dict[str, str] = {}
    for sheet in workbook.iter(f"{_MAIN}sheet"):
        target = targets[sheet.get(_REL_ID)]
        parts[str(sheet.get("name"))] = (
            target.lstrip("/") if target.startswith("/") else (f"xl/{target}")
        )
    return parts

"""The loader: a CSV or XLSX file of license assignments to a `LoadedFile` (README, "Input files").

    bytes --format--> (refused: lock file, .xls, .xlsb, .ods, .numbers, not a spreadsheet)
          --decode/sniff, or choose the sheet--> table of cells (index = Excel row)
          --header search (first 20 non-empty rows)--> layout, fields
          --requests--> one line per user and license (batch.model.REQUEST_COLUMNS)

Only `load` is public. Any input either loads or raises `FileRefused` with one line saying what
to change; nothing else escapes.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np
import numpy.typing as npt
import pandas as pd
from python_calamine import CalamineError

from batch.errors import FileRefused
from batch.loading import csvfile, formats, xlsxfile
from batch.loading.decode import decode, looks_binary
from batch.loading.headers import (
    HEADER_SEARCH_ROWS,
    Header,
    column_letter,
    header_row,
    read_header,
)
from batch.loading.requests import build_requests
from batch.model import LoadedFile
from batch.settings import Intake, Limits

__all__ = ["load"]

log = logging.getLogger(__name__)

EMPTY = "the file is empty: save the sheet again with a header row and at least one data row"
NOT_A_SPREADSHEET = "not a spreadsheet: expected a CSV file or an .xlsx workbook"
OLD_XLS = formats.OLD_XLS
NOT_XLSX = "a zip archive that is not an .xlsx workbook: save the sheet as .xlsx or CSV"
NO_ROWS = "no data rows: the file has a header but no rows below it"
_FEW_COLUMNS = 64  # above this, a table short enough is scanned cell by cell
_CELLWISE_CELLS = 2_000_000


def load(
    source: str | os.PathLike[str] | BinaryIO,
    *,
    name: str | None = None,
    limits: Limits = Limits(),  # noqa: B008  # frozen dataclass: a shared default is safe
    intake: Intake = Intake(),  # noqa: B008  # frozen dataclass: a shared default is safe
) -> LoadedFile:
    """Load a CSV or XLSX file of license assignments into its requests table.

    `source` is a path or a binary file object; `name` is the file name used in messages and
    the report (default: the path's or file object's name). The format is told by content (an
    .xlsx is a zip), not by extension. `intake` names the sheet to read and columns to carry
    through unread. Raises FileRefused for a file that cannot be used as a whole: empty, not a
    spreadsheet (with what it is and how to save it), no email column, no license column, a
    column close to one we know, mixed layouts, no data rows, a sheet that cannot be chosen,
    or past one of `limits`.

    >>> import io
    >>> loaded = load(io.BytesIO(b"Email,Webinar\\nann@example.com,500\\n"), name="x.csv")
    >>> loaded.layout, loaded.requests["email"].tolist(), loaded.requests["size"].tolist()
    ('wide', ['ann@example.com'], [500])
    """
    file_name = name or _name_of(source)
    try:
        data = _read_bytes(source, file_name, limits)
        return _load_bytes(data, file_name, limits, intake)
    except FileRefused:
        raise
    except Exception as error:  # promise: no input ever ends in a traceback
        log.debug("could not load %s", file_name, exc_info=True)
        raise FileRefused(file_name, f"cannot be read: {_short(error)}") from error


def _name_of(source: str | os.PathLike[str] | BinaryIO) -> str:
    """The file name without directories, for messages."""
    if isinstance(source, str | os.PathLike):
        return Path(source).name
    stream_name = getattr(source, "name", None)
    return Path(stream_name).name if isinstance(stream_name, str) else "input"


def _short(error: Exception) -> str:
    """An exception as a short single line."""
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    text = " ".join(str(error).split()) or type(error).__name__
    return text[:200]


def _read_bytes(source: str | os.PathLike[str] | BinaryIO, file_name: str, limits: Limits) -> bytes:
    """All the bytes of the file, refusing it as soon as it passes max_file_bytes."""
    if isinstance(source, str | os.PathLike):
        size = os.stat(source).st_size
        if size > limits.max_file_bytes:
            raise FileRefused(file_name, _too_large(size, limits))
        # Read no more than the limit even so: a device (/dev/zero) or a pipe has no size.
        with open(source, "rb") as stream:
            return _read_bytes(stream, file_name, limits)
    data: bytes | str = source.read(limits.max_file_bytes + 1)
    if isinstance(data, str):  # a text-mode file handed over by mistake: still readable
        data = data.encode("utf-8")
    if len(data) > limits.max_file_bytes:
        raise FileRefused(file_name, _too_large(None, limits))
    return bytes(data)


def _too_large(size: int | None, limits: Limits) -> str:
    shown = f"{size:,} bytes" if size is not None else f"over {limits.max_file_bytes:,} bytes"
    return f"too large: {shown}, the limit (max_file_bytes) is {limits.max_file_bytes:,} bytes"


def _load_bytes(data: bytes, file_name: str, limits: Limits, intake: Intake) -> LoadedFile:
    """Bytes to a LoadedFile: detect the format, find the header, build the tables."""
    lock = formats.lock_file_message(file_name, data)
    if lock is not None:
        raise FileRefused(file_name, lock)
    if not data or data.isspace():
        raise FileRefused(file_name, EMPTY)
    if data.startswith(formats.OLE_MAGIC):
        raise FileRefused(file_name, formats.ole_message(data, file_name))
    if data.startswith(formats.ZIP_MAGIC):
        try:
            sheet = xlsxfile.read_table(data, limits, intake.sheet)
        except (xlsxfile.NotAWorkbook, CalamineError) as error:
            raise FileRefused(
                file_name, formats.zip_message(data, file_name) or NOT_XLSX
            ) from error
        except xlsxfile.TooLarge as error:
            raise FileRefused(file_name, f"too large when unpacked: {error}") from error
        except (xlsxfile.SheetChoice, xlsxfile.CellOutOfRange) as error:
            raise FileRefused(file_name, str(error)) from error
        return _from_table(sheet.table, data, file_name, limits, intake, sheet)
    text, encoding = decode(data)
    if looks_binary(text):
        raise FileRefused(file_name, formats.by_extension(file_name) or NOT_A_SPREADSHEET)
    if not csvfile.has_content(text):
        raise FileRefused(file_name, EMPTY)
    body, delimiter = csvfile.sep_line(text)
    notes = (f"its first line sep={delimiter} set the delimiter",) if delimiter else ()
    delimiter = delimiter or csvfile.sniff_delimiter(body)
    plain = encoding == "utf-8" and not data.startswith(b"\xef\xbb\xbf") and body is text
    table = csvfile.read_table(body, delimiter, data if plain else None)
    return _from_table(table, data, file_name, limits, intake, xlsxfile.Sheet(table, None, notes))


def _from_table(
    table: pd.DataFrame,
    data: bytes,
    file_name: str,
    limits: Limits,
    intake: Intake,
    sheet: xlsxfile.Sheet,
) -> LoadedFile:
    """A table of all records (index = Excel row) to the LoadedFile."""
    filled_cells = _filled_cells(table)
    filled = np.any(filled_cells, axis=1, keepdims=False).astype(bool)
    if not filled.any():
        raise FileRefused(file_name, EMPTY)
    candidates = np.flatnonzero(filled)[:HEADER_SEARCH_ROWS]
    found = header_row([[str(t) for t in table.iloc[p].tolist()] for p in candidates])
    first = int(candidates[found])
    skipped = tuple(int(r) for r in table.index[candidates[:found]])
    texts = [str(t) for t in table.iloc[first].tolist()]
    below = table.iloc[first + 1 :]
    below = below[filled[first + 1 :]]
    # Columns with neither a header nor any data are Excel's leftovers, not columns.
    used = np.any(filled_cells[first:][filled[first:]], axis=0).astype(bool)
    keep = [i for i in range(len(texts)) if used[i]]
    header = read_header(
        file_name,
        [texts[i] for i in keep],
        [column_letter(i) for i in keep],
        intake.ignore_columns,
    )
    cells = below.iloc[:, keep].set_axis(range(len(keep)), axis=1)
    if cells.empty:
        raise FileRefused(file_name, NO_ROWS)
    if len(cells) > limits.max_rows:
        raise FileRefused(
            file_name,
            f"too many rows: {len(cells):,} data rows, the limit (max_rows) is {limits.max_rows:,}",
        )
    _check_cell_lengths(cells, header, file_name, limits)
    source = cells.set_axis(list(header.names), axis=1)
    source.index.name = "Row"
    header_at = int(table.index[first])
    notes = [*sheet.notes]
    if skipped:
        notes.insert(0, f"{_rows_text(skipped)} above the header (row {header_at}) were skipped")
    return LoadedFile(
        name=file_name,
        sha256=hashlib.sha256(data).hexdigest(),
        layout=header.layout,
        source=source,
        fields={field: header.names[position] for field, position in header.fields.items()},
        extra_columns=tuple(header.names[p] for p in header.extra),
        requests=build_requests(cells, header),
        sheet=sheet.name,
        header_row=header_at,
        skipped_rows=skipped,
        notes=tuple(notes),
    )


def _rows_text(rows: tuple[int, ...]) -> str:
    """Row numbers as Excel ranges: (1, 2, 3, 5) -> "rows 1-3, 5"."""
    spans: list[list[int]] = []
    for row in rows:
        if spans and row == spans[-1][1] + 1:
            spans[-1][1] = row
        else:
            spans.append([row, row])
    text = ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)
    return ("row " if len(rows) == 1 else "rows ") + text


def _filled_cells(table: pd.DataFrame) -> npt.NDArray[np.bool_]:
    """Per cell (rows x columns): True when it holds more than whitespace."""
    rows, columns = table.shape
    if _cellwise(table):
        values = table.to_numpy(dtype=object)
        cellwise: npt.NDArray[np.bool_] = np.frompyfunc(_has_text, 1, 1)(values).astype(bool)
        return cellwise.reshape(rows, columns)
    filled = np.zeros((rows, columns), dtype=bool)
    for position in range(columns):
        column = table.iloc[:, position]
        filled[:, position] = column.str.strip().str.len().fillna(0).to_numpy() > 0
    return filled


def _cellwise(table: pd.DataFrame) -> bool:
    """True for a wide, short table (thousands of columns): one pass over its cells beats
    thousands of per-column string operations (about a second per thousand columns)."""
    rows, columns = table.shape
    return columns > _FEW_COLUMNS and rows * columns <= _CELLWISE_CELLS


def _has_text(cell: object) -> bool:
    return isinstance(cell, str) and bool(cell.strip())


def _check_cell_lengths(
    cells: pd.DataFrame, header: Header, file_name: str, limits: Limits
) -> None:
    """Refuse a file with a cell longer than max_cell_chars, naming the first such cell."""
    for position, lengths in enumerate(_column_lengths(cells)):
        if len(lengths) and int(lengths.max()) > limits.max_cell_chars:
            row = int(cells.index[int(lengths.argmax())])
            raise FileRefused(
                file_name,
                f"a cell is too long: row {row}, column {header.letters[position]} "
                f"('{header.names[position]}') has {int(lengths.max()):,} characters, the limit "
                f"(max_cell_chars) is {limits.max_cell_chars:,}",
            )


def _column_lengths(cells: pd.DataFrame) -> Iterator[np.ndarray]:
    """Each column's cell lengths, in column order."""
    if _cellwise(cells):
        lengths = np.frompyfunc(_length, 1, 1)(cells.to_numpy(dtype=object)).astype(np.int64)
        yield from lengths.T
        return
    for position in range(cells.shape[1]):
        yield cells.iloc[:, position].str.len().fillna(0).to_numpy(dtype=np.int64)


def _length(cell: object) -> int:
    return len(cell) if isinstance(cell, str) else 0

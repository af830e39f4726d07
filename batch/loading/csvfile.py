"""CSV text to a table of cells: delimiter sniffing and parsing with pandas' C engine."""

from __future__ import annotations

import csv
import io
from typing import Final

import pandas as pd

from batch.loading.headers import field_of

DELIMITERS: Final = (",", ";", "\t", "|")
_BLANK_LINE_CHARS: Final = " \t\r\n\f\v\u00a0\"',;|"
_SNIFF_CHARS: Final = 65536  # enough for any header row, even one with quoted line breaks


def _first_line_start(text: str) -> int:
    """Where the first line with any content starts (lines of only delimiters are blank)."""
    start = 0
    while start < len(text):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end + 1
        if text[start:end].strip(_BLANK_LINE_CHARS):
            return start
        start = end
    return len(text)


def has_content(text: str) -> bool:
    """False when every line is blank or only delimiters and quotes."""
    return _first_line_start(text) < len(text)


def sniff_delimiter(text: str) -> str:
    """The delimiter among `,` `;` tab `|` under which the header row names most known columns.

    Ties go to the delimiter giving more fields, then to the order above.

    >>> sniff_delimiter("E-mailadres;Gebruikerstype;Webinar\\r\\n")
    ';'
    """
    start = _first_line_start(text)
    head = text[start : start + _SNIFF_CHARS]
    best, best_score = DELIMITERS[0], (-1, -1)
    for delimiter in DELIMITERS:
        try:
            fields = next(csv.reader(io.StringIO(head, newline=""), delimiter=delimiter), [])
        except csv.Error:
            continue
        score = (sum(field_of(f) is not None for f in fields), len(fields))
        if score > best_score:
            best, best_score = delimiter, score
    return best


def header_width(text: str, delimiter: str) -> int:
    """How many fields the first non-blank row has."""
    start = _first_line_start(text)
    head = io.StringIO(text[start : start + _SNIFF_CHARS], newline="")
    return max(len(next(csv.reader(head, delimiter=delimiter), [])), 1)


def read_table(text: str, delimiter: str, utf8: bytes | None = None) -> pd.DataFrame:
    """Every record of the CSV as text columns 0..n-1, indexed by Excel row number (from 1).

    Blank lines are kept as blank records so row numbers match Excel; a quoted cell with a
    line break stays one record. `utf8` may pass the text already encoded, to save a copy.
    """
    data = utf8 if utf8 is not None else text.encode("utf-8")
    width = header_width(text, delimiter)
    try:
        table = _read_c(data, delimiter, width)
    except pd.errors.ParserError:
        # Rows longer than the header (or quoting the C engine rejects): the csv module copes.
        table = _read_python(text, delimiter)
    table.index = pd.RangeIndex(1, len(table) + 1)
    return table


def _read_c(data: bytes, delimiter: str, width: int) -> pd.DataFrame:
    """Parse with pandas' C engine, every cell as text, nothing turned into NaN."""
    return pd.read_csv(
        io.BytesIO(data),
        sep=delimiter,
        header=None,
        names=list(range(width)),
        index_col=False,
        dtype=str,
        keep_default_na=False,
        na_filter=False,
        skip_blank_lines=False,
        engine="c",
        encoding="utf-8",
    )


def _read_python(text: str, delimiter: str) -> pd.DataFrame:
    """Parse with the csv module: slower, but takes ragged rows and stray quotes."""
    # An unbalanced quote makes the rest of the file one field: let it through, so the cell
    # limit (max_cell_chars) refuses it with a reason instead of the csv module's own limit.
    csv.field_size_limit(max(csv.field_size_limit(), len(text) + 1))
    records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False))
    width = max((len(r) for r in records), default=1) or 1
    padded = [r + [""] * (width - len(r)) for r in records]
    return pd.DataFrame(padded, columns=list(range(width)), dtype="str")

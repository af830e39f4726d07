"""CSV text to a table of cells: delimiter sniffing and parsing with pandas' C engine.

Lines above the header are allowed (a title, PowerShell's `#TYPE ...` line): the delimiter is
the one under which one of the first rows names most known columns. Excel's `sep=;` first line
sets the delimiter and is dropped, as Excel does (so row numbers still match Excel's).
"""

from __future__ import annotations

import csv
import io
import re
import warnings
from typing import Final

import pandas as pd

from batch.loading.headers import HEADER_SEARCH_ROWS, field_of

DELIMITERS: Final = (",", ";", "\t", "|")
_BLANK_LINE_CHARS: Final = " \t\r\n\f\v\u00a0\"',;|"
_SNIFF_CHARS: Final = 65536  # enough for any header row, even one with quoted line breaks
_SEP_LINE: Final = re.compile(r'\A[ \t\r\n]*"?sep=(.)"?[^\n]*(?:\n|\Z)', re.IGNORECASE)


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


def sep_line(text: str) -> tuple[str, str | None]:
    """Excel's `sep=X` first line: the text without it and X (None when there is no such line).

    >>> sep_line("sep=;\\nEmail;Webinar\\n")
    ('Email;Webinar\\n', ';')
    """
    match = _SEP_LINE.match(text)
    if match is None or match.group(1) not in DELIMITERS:
        return text, None
    return text[match.end() :], match.group(1)


def _head_records(text: str, delimiter: str) -> list[list[str]]:
    """The first records of the text (as many as the header search looks at, and some), each
    whole: the window read grows until they all end inside it, however long a line is."""
    start = _first_line_start(text)
    wanted = 2 * HEADER_SEARCH_ROWS
    size = _SNIFF_CHARS
    while True:
        end = start + size
        records, broken = _records(text[start:end], delimiter, wanted + 1)
        if len(records) > wanted:  # the next record began, so the first `wanted` ended
            return records[:wanted]
        if broken or end >= len(text):  # the whole text (or all the csv module can read)
            return records
        size *= 4  # the last record may be cut at the window's end: read further


def _records(head: str, delimiter: str, most: int) -> tuple[list[list[str]], bool]:
    """Up to `most` records of `head`, and whether the csv module gave up part way."""
    records: list[list[str]] = []
    try:
        for record in csv.reader(io.StringIO(head, newline=""), delimiter=delimiter):
            records.append(record)
            if len(records) >= most:
                break
    except csv.Error:
        return records, True
    return records, False


def sniff_delimiter(text: str) -> str:
    """The delimiter among `,` `;` tab `|` under which one of the first rows names most known
    columns.

    Ties go to the delimiter giving more fields in that row, then to the order above.

    >>> sniff_delimiter("E-mailadres;Gebruikerstype;Webinar\\r\\n")
    ';'
    """
    best, best_score = DELIMITERS[0], (-1, -1)
    for delimiter in DELIMITERS:
        records = _head_records(text, delimiter)
        score = max(
            ((sum(field_of(f) is not None for f in r), len(r)) for r in records),
            default=(-1, -1),
        )
        if score > best_score:
            best, best_score = delimiter, score
    return best


def header_width(text: str, delimiter: str) -> int:
    """How many fields the widest of the first rows has."""
    return max((len(r) for r in _head_records(text, delimiter)), default=1) or 1


def read_table(text: str, delimiter: str, utf8: bytes | None = None) -> pd.DataFrame:
    """Every record of the CSV as text columns 0..n-1, indexed by Excel row number (from 1).

    Blank lines are kept as blank records so row numbers match Excel; a quoted cell with a
    line break stays one record. `utf8` may pass the text already encoded, to save a copy.
    """
    data = utf8 if utf8 is not None else text.encode("utf-8")
    width = header_width(text, delimiter)
    try:
        with warnings.catch_warnings():
            # pandas only warns when a row has more fields than `names`, and drops the rest
            warnings.simplefilter("error", pd.errors.ParserWarning)
            table = _read_c(data, delimiter, width)
    except (pd.errors.ParserError, pd.errors.ParserWarning):
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

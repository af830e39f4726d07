"""One streaming pass over a sheet's XML before any reader unpacks it: how far its grid
reaches (the guard against a stray cell in XFD1048576) and whether its cells may be read
straight into text columns (every cell a text or a plain number, so the bulk reader's text is
the text the admin sees: see xlsxfile.cell_text).

A sheet whose cells include a boolean, a date, an error, a number in exponent form or of more
than 15 digits, a negative zero, or a cell styled with any number format but the plain ones
is read cell by cell instead: slower, never different.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from typing import Final

_CHUNK: Final = 1 << 20
_ROW_TAG: Final = re.compile(rb"<(?:\w+:)?row\b")
_ROW_REF: Final = re.compile(rb'<(?:\w+:)?row\b[^>]*?\br="(\d{1,9})"')
_CELL_TAG: Final = re.compile(rb"<(?:\w+:)?c[\s>/]")
_ANY_CELL_REF: Final = re.compile(rb'<(?:\w+:)?c\s[^>]*?\br="')
# A cell with a reference and content (a self-closing cell holds only a style: calamine skips it).
_CELL_REF: Final = re.compile(rb'<(?:\w+:)?c\s[^>]*?\br="([A-Z]{1,3})(\d{1,9})"[^>]*(?<!/)>')
# Cells whose value is not a text or a number: booleans, ISO dates, errors.
_ODD_TYPE: Final = re.compile(rb'<(?:\w+:)?c\s[^>]*?\bt="(?:b|d|e)"')
# A value that is not a run of digits (a shared string's index or an integer), and one too long.
_ODD_VALUE: Final = re.compile(rb"<(?:\w+:)?v>([^<]*[^<0-9][^<]*)")
_LONG_VALUE: Final = re.compile(rb"<(?:\w+:)?v>\d{16}")
_PLAIN_NUMBER: Final = re.compile(rb"-?\d{1,15}(?:\.\d{1,15})?")
_STYLE_REF: Final = re.compile(rb'<(?:\w+:)?c\s[^>]*?\bs="(\d{1,9})"')
# Number formats whose numbers read the same as plain ones: General, 0, 0.00, #,##0, #,##0.00,
# 0%, 0.00% and text (@). Any other (dates, times, fractions, custom codes) may not.
PLAIN_FORMATS: Final = frozenset({0, 1, 2, 3, 4, 9, 10, 49})
_CELL_XFS: Final = re.compile(r"<(?:\w+:)?cellXfs\b[^>]*>(.*?)</(?:\w+:)?cellXfs>", re.DOTALL)
_XF: Final = re.compile(r"<(?:\w+:)?xf\b([^>]*)>")
_NUM_FMT: Final = re.compile(r'\bnumFmtId="(\d+)"')


@dataclass(frozen=True)
class Extent:
    """What one pass over a sheet part found."""

    cells: int  # cell tags, filled or not
    height: int  # rows from row 1 to the farthest (an upper bound)
    width: int  # columns from A to the farthest (an upper bound)
    first: tuple[int, int] | None  # (row, column), 1-based, of the first cell with content
    last: tuple[int, int] | None  # and of the last: the box the bulk reader returns
    plain: bool  # every cell a text or a plain number, each cell's place known


def styled_formats(styles_xml: str) -> frozenset[int]:
    """The style indexes (a cell's s="N") whose number format is not a plain one."""
    found = _CELL_XFS.search(styles_xml)
    if found is None:
        return frozenset()
    odd = set()
    for index, xf in enumerate(_XF.finditer(found.group(1))):
        fmt = _NUM_FMT.search(xf.group(1))
        if fmt is not None and int(fmt.group(1)) not in PLAIN_FORMATS:
            odd.add(index)
    return frozenset(odd)


def scan(archive: zipfile.ZipFile, info: zipfile.ZipInfo, odd_styles: frozenset[int]) -> Extent:
    """Stream a sheet part (zipfile stops at the declared size and checks the CRC, so a part
    that lies about its size fails as damaged) and read its rows' and cells' references."""
    last_row = last_column = rows = cells = referenced = 0
    low_row = low_column = 1 << 30
    high_row = high_column = 0
    plain = True
    rest = b""
    with archive.open(info) as part:
        while True:
            chunk = part.read(_CHUNK)
            text = rest + chunk
            # Up to the last tag's start: tags and values before it are whole.
            cut = text.rfind(b"<") if chunk else len(text)
            cut = max(cut, 0)
            text, rest = text[:cut], text[cut:]
            rows += len(_ROW_TAG.findall(text))
            cells += len(_CELL_TAG.findall(text))
            referenced += len(_ANY_CELL_REF.findall(text))
            for number in _ROW_REF.findall(text):
                last_row = max(last_row, int(number))
            refs = _CELL_REF.findall(text)
            if refs:
                letters, numbers = zip(*refs, strict=True)
                columns = [_column_number(c) for c in set(letters)]
                row_numbers = [int(n) for n in set(numbers)]
                low_row, high_row = min(low_row, *row_numbers), max(high_row, *row_numbers)
                low_column = min(low_column, *columns)
                high_column = max(high_column, *columns)
            plain = plain and _plain(text, odd_styles)
            if not chunk:
                break
    last_row, last_column = max(last_row, high_row), max(last_column, high_column)
    # Cells without a reference take the next column: at most one per such cell.
    unreferenced = max(cells - referenced, 0)
    box = high_row > 0
    return Extent(
        cells=cells,
        height=max(last_row, rows),
        width=last_column + unreferenced,
        first=(low_row, low_column) if box else None,
        last=(high_row, high_column) if box else None,
        plain=plain and unreferenced == 0,
    )


def _plain(text: bytes, odd_styles: frozenset[int]) -> bool:
    """True when no cell in `text` may read differently in bulk than cell by cell."""
    if _ODD_TYPE.search(text) or _LONG_VALUE.search(text):
        return False
    if odd_styles and not odd_styles.isdisjoint(map(int, set(_STYLE_REF.findall(text)))):
        return False
    return all(_plain_number(v) for v in _ODD_VALUE.findall(text))


def _plain_number(value: bytes) -> bool:
    """A number both readers write alike: no exponent, at most 15 digits, not -0, and (when
    not whole) between 0.0001 and 1e15, where Python's repr writes no exponent either."""
    if not _PLAIN_NUMBER.fullmatch(value):
        return False
    number = float(value)
    if number.is_integer():
        return not (number == 0 and value.startswith(b"-"))
    return 1e-4 <= abs(number) < 1e15


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number

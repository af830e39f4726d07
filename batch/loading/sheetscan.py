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
from operator import itemgetter
from typing import Final

_CHUNK: Final = 1 << 20
_FIRST, _SECOND, _THIRD = itemgetter(0), itemgetter(1), itemgetter(2)
_ROW_TAG: Final = re.compile(rb"<(?:\w+:)?row\b")
_ROW_REF: Final = re.compile(rb'<(?:\w+:)?row\b[^>]*?\br="(\d{1,9})"')
_CELL_TAG: Final = re.compile(rb"<(?:\w+:)?c[\s>/]")
_ANY_CELL_REF: Final = re.compile(rb'<(?:\w+:)?c\s[^>]*?\br="')
# A cell with a reference and content (a self-closing cell holds only a style: calamine skips it).
_CELL_REF: Final = re.compile(rb'<(?:\w+:)?c\s[^>]*?\br="([A-Z]{1,3})(\d{1,9})"[^>]*(?<!/)>')
# A value that is not a run of digits (a shared string's index or an integer), and one too long.
_ODD_VALUE: Final = re.compile(rb"<v>(\d*[^<0-9][^<]*)")  # (only read in _fast's chunks:
_LONG_VALUE: Final = re.compile(rb"<v>\d{16}")  # those without a namespace prefix)
_FAST_ROW_REF: Final = re.compile(rb'<row r="(\d{1,9})"')
# A content cell and whether its value follows at once (b"<v", b"<i"): such a cell is never
# empty to calamine, so a sheet whose farthest content cells all have one ends where ours does.
_FAST_CELL_REF: Final = re.compile(rb'<c r="([A-Z]{1,3})(\d{1,9})"[^>]*(?<!/)>(<[vi])?')
_PLAIN_NUMBER: Final = re.compile(rb"-?\d{1,15}(?:\.\d{1,15})?")
_STYLE_REF: Final = re.compile(rb'<c\s[^>]*?\bs="(\d{1,9})"')
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
    last: tuple[int, int] | None  # (row, column), 1-based, of the farthest cell with content
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


@dataclass
class _Tally:
    """Running counts of one pass."""

    rows: int = 0
    cells: int = 0
    referenced: int = 0
    last_row: int = 0  # of any row or content cell
    high_row: int = 0  # of content cells
    high_column: int = 0
    valued_row: int = 0  # of content cells whose value follows at once (_FAST_CELL_REF)
    valued_column: int = 0
    plain: bool = True

    def cell_refs(self, refs: list[tuple[bytes, bytes]]) -> None:
        """Take in content cells' references (column letters, row digits)."""
        if refs:
            self.high_row = max(self.high_row, max(map(int, set(map(_SECOND, refs)))))
            letters = set(map(_FIRST, refs))
            self.high_column = max(self.high_column, max(map(_column_number, letters)))

    def valued_refs(self, refs: list[tuple[bytes, bytes, bytes]], all_valued: bool) -> None:
        """Take in _FAST_CELL_REF's matches; `all_valued` when no content cell lacks a value."""
        if not refs:
            return
        # map/filter with itemgetter stay in C: a third of what comprehensions cost here
        numbers, letters = set(map(_SECOND, refs)), set(map(_FIRST, refs))
        self.high_row = max(self.high_row, max(map(int, numbers)))
        self.high_column = max(self.high_column, max(map(_column_number, letters)))
        if not all_valued:
            valued = list(filter(_THIRD, refs))
            numbers, letters = set(map(_SECOND, valued)), set(map(_FIRST, valued))
        if numbers:
            self.valued_row = max(self.valued_row, max(map(int, numbers)))
            self.valued_column = max(self.valued_column, max(map(_column_number, letters)))


def scan(archive: zipfile.ZipFile, info: zipfile.ZipInfo, odd_styles: frozenset[int]) -> Extent:
    """Stream a sheet part (zipfile stops at the declared size and checks the CRC, so a part
    that lies about its size fails as damaged) and read its rows' and cells' references."""
    tally = _Tally()
    rest = b""
    with archive.open(info) as part:
        while True:
            chunk = part.read(_CHUNK)
            text = rest + chunk
            # Up to the last tag's start: tags and values before it are whole.
            cut = max(text.rfind(b"<"), 0) if chunk else len(text)
            text, rest = text[:cut], text[cut:]
            _fast(text, tally) if tally.plain else _general(text, tally)
            tally.plain = tally.plain and _plain(text, odd_styles)
            if not chunk:
                break
    last_row, last_column = max(tally.last_row, tally.high_row), tally.high_column
    # Cells without a reference take the next column: at most one per such cell.
    unreferenced = max(tally.cells - tally.referenced, 0)
    # The farthest row and column hold a value: calamine's grid ends where ours does.
    ends = (tally.valued_row, tally.valued_column) == (tally.high_row, tally.high_column)
    plain = tally.plain and unreferenced == 0 and ends
    return Extent(
        cells=tally.cells,
        height=max(last_row, tally.rows),
        width=last_column + unreferenced,
        last=(tally.high_row, tally.high_column) if tally.high_row else None,
        plain=plain,
    )


def _fast(text: bytes, tally: _Tally) -> None:
    """Count a chunk written as Excel, openpyxl and xlsxwriter write (no namespace prefix, the
    reference first) with plain string searches and one pattern, or hand it to _general (and
    later chunks too: the sheet is then not plain) when it is written otherwise."""
    opened = text.count(b"<c ")
    bare = text.count(b"<c>") + text.count(b"<c/>")
    row_tags = text.count(b"<row ") + text.count(b"<row>") + text.count(b"<row/>")
    row_refs = _FAST_ROW_REF.findall(text)
    refs = _FAST_CELL_REF.findall(text)
    written_our_way = (
        not bare
        and text.count(b'<c r="') == opened
        and len(row_refs) == text.count(b"<row ")
        and b":c " not in text
        and b":c>" not in text
        and b":row" not in text
        and b"<v></v>" not in text
        and b"<v/>" not in text
    )
    if not written_our_way:
        tally.plain = False
        _general(text, tally)
        return
    tally.rows += row_tags
    tally.cells += opened
    tally.referenced += opened
    if row_refs:
        tally.last_row = max(tally.last_row, max(map(int, row_refs)))
    # An empty content cell (<c ...></c>) or one whose formula comes first: not all valued.
    tally.valued_refs(refs, b"></c>" not in text and b"><f" not in text)


def _general(text: bytes, tally: _Tally) -> None:
    """Count a chunk written any way: namespace prefixes, attributes in any order."""
    tally.rows += len(_ROW_TAG.findall(text))
    tally.cells += len(_CELL_TAG.findall(text))
    tally.referenced += len(_ANY_CELL_REF.findall(text))
    for number in _ROW_REF.findall(text):
        tally.last_row = max(tally.last_row, int(number))
    tally.cell_refs(_CELL_REF.findall(text))


def _plain(text: bytes, odd_styles: frozenset[int]) -> bool:
    """True when no cell in `text` may read differently in bulk than cell by cell."""
    if any(t in text for t in (b't="b"', b't="d"', b't="e"')) or _LONG_VALUE.search(text):
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

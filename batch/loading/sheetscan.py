"""One streaming pass over a sheet's XML before any reader unpacks it: how far its grid
reaches (the guard against a stray cell in XFD1048576) and whether its cells may be read
straight into text columns (every cell a text or a plain number, so the bulk reader's text is
the text the admin sees: see xlsxfile.cell_text).

A sheet whose cells include a boolean, a date, an error, a number in exponent form or of more
than 15 digits, a negative zero, or a cell styled with any number format but the plain ones
is read cell by cell instead: slower, never different.
"""

from __future__ import annotations

import html
import re
import zipfile
from dataclasses import dataclass
from operator import itemgetter
from typing import Final

import numpy as np
import numpy.typing as npt

_CHUNK: Final = 1 << 20
_FIRST, _SECOND = itemgetter(0), itemgetter(1)
_ROW_TAG: Final = re.compile(rb"<(?:\w+:)?row\b")
# References as calamine reads them: either quotes, spaces around "=", leading zeros, any
# letters (a guard that missed r='XFD1048576' would let calamine build a grid of 17 billion).
_EQUALS_QUOTE: Final = rb"""\s*=\s*["']"""  # an attribute's "=" and opening quote, any way
_ROW_REF: Final = re.compile(rb"<(?:\w+:)?row\b[^>]*?\br" + _EQUALS_QUOTE + rb"(\d+)")
_CELL_TAG: Final = re.compile(rb"<(?:\w+:)?c[\s>/]")
_ANY_CELL_REF: Final = re.compile(rb"<(?:\w+:)?c\s[^>]*?\br" + _EQUALS_QUOTE)
# A cell with a reference and content (a self-closing cell holds only a style: calamine skips it).
_CELL_REF: Final = re.compile(
    rb"<(?:\w+:)?c\s[^>]*?\br" + _EQUALS_QUOTE + rb"""([A-Za-z]+)(\d+)["'][^>]*(?<!/)>"""
)
_BEYOND: Final = 10**10  # a row or column number of more digits: past any limit
# A value that is not a run of digits (a shared string's index or an integer), and one too long.
_ODD_VALUE: Final = re.compile(rb"<v>(\d*[^<0-9][^<]*)")  # (when too many for one by one)
_ODD_TYPE: Final = re.compile(rb't="[bde]"')  # a boolean, a date, an error
# The same, and the style below, with the attribute in either quotes, spaces around "=": only
# looked for in a chunk with an "=" not between a name and a double quote (patterns without a
# literal start would take a fifth of the whole load's time on every chunk).
_ODD_TYPE_ANY: Final = re.compile(rb"\bt" + _EQUALS_QUOTE + rb"""[bde]["']""")
_EQUALS: Final = ord("=")
_INLINE_WORD: Final = b"inlineStr"
_CAPITAL_S: Final = ord("S")
_S_AT: Final = _INLINE_WORD.index(b"S")
_LONGEST_CELL_TAG: Final = 256
_PLAIN_NUMBER: Final = re.compile(rb"-?\d{1,15}(?:\.\d{1,15})?")
# The bytes _fast reads, and tables from a byte to what it is.
_PAD: Final = b"\0" * 32  # a few bytes read past a chunk's last tag stay in the buffer
_LT, _GT, _SLASH, _COLON, _QUOTE, _SPACE = (ord(c) for c in '<>/:" ')
_C, _R, _O, _W, _V, _F = (ord(c) for c in "crowvf")
_CELL_OPEN: Final = b'<c r="'
_ROW_OPEN: Final = b'<row r="'
_ROW_TAG_ENDS: Final = np.frombuffer(b" >/", np.uint8)
_VALUE_TAGS: Final = np.frombuffer(b"vi", np.uint8)  # <v>, <is>
_ONE_LETTER_TAGS: Final = np.frombuffer(b"cv", np.uint8)  # <c>, <v>
_NAME_AT: Final = np.arange(16)  # a namespace prefix's bytes (and '/'), at most
_LOCAL_AT: Final = np.arange(5)  # the colon and a local name's first bytes
_NUMBER_AT: Final = np.arange(10)  # up to 9 digits and the closing quote
_PACKED: Final = 8  # bytes of an unsigned 64-bit integer
_VALUE_AT: Final = np.arange(17)
_LONG_DIGITS: Final = 16
_ODD_VALUES_ONE_BY_ONE: Final = 1000
_DIGITS, _UPPERS = b"0123456789", b"ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _byte_class(members: bytes) -> npt.NDArray[np.bool_]:
    """A table from a byte to whether it is one of `members`."""
    table = np.zeros(256, np.bool_)
    table[list(members)] = True
    return table


_DIGIT: Final = _byte_class(_DIGITS)
_UPPER: Final = _byte_class(_UPPERS)
_NAME_BYTE: Final = _byte_class(
    _DIGITS + _UPPERS + _UPPERS.lower() + b"-_.:" + bytes(range(128, 256))
)
_STYLE_REF: Final = re.compile(rb'<c\s[^>]*?\bs="(\d+)"')
_STYLE_REF_ANY: Final = re.compile(rb"<c\s[^>]*?\bs" + _EQUALS_QUOTE + rb"""(\d+)["']""")
# Number formats whose numbers read the same as plain ones: General, 0, 0.00, #,##0, #,##0.00,
# 0%, 0.00% and text (@). Any other (dates, times, fractions, custom codes) may not.
PLAIN_FORMATS: Final = frozenset({0, 1, 2, 3, 4, 9, 10, 49})
_CELL_XFS: Final = re.compile(r"<(?:\w+:)?cellXfs\b[^>]*>(.*?)</(?:\w+:)?cellXfs>", re.DOTALL)
# A workbook's own formats: only those in <numFmts> count (a <dxf>'s are conditional formats).
_NUM_FMTS: Final = re.compile(r"<(?:\w+:)?numFmts\b[^>]*>(.*?)</(?:\w+:)?numFmts>", re.DOTALL)
# An element's attributes, quoted either way (a format code may hold ">": [>=100]0).
_ATTRIBUTES: Final = r"""((?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*/?>"""
_XF: Final = re.compile(r"<(?:\w+:)?xf\b" + _ATTRIBUTES)
_NUM_FMT_TAG: Final = re.compile(r"<(?:\w+:)?numFmt\b" + _ATTRIBUTES)
_ATTRIBUTE: Final = re.compile(r"""([^\s=/>]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_COMMENT: Final = re.compile(r"<!--.*?-->", re.DOTALL)
# The codes of the plain built-in formats (PLAIN_FORMATS), as a workbook may also write them.
PLAIN_FORMAT_CODES: Final = frozenset(
    {"General", "0", "0.00", "#,##0", "#,##0.00", "0%", "0.00%", "@"}
)


@dataclass(frozen=True)
class Extent:
    """What one pass over a sheet part found."""

    cells: int  # cell tags, filled or not
    height: int  # rows from row 1 to the farthest (an upper bound)
    width: int  # columns from A to the farthest (an upper bound)
    last: tuple[int, int] | None  # (row, column), 1-based, of the farthest cell with content
    plain: bool  # every cell a text or a plain number, each cell's place known
    # (row, column) of the nearest: the lowest row and column holding a value (when plain)
    first: tuple[int, int] | None = None


def styled_formats(styles_xml: str) -> frozenset[int]:
    """The style indexes (a cell's s="N") whose number format is not a plain one: a built-in
    format outside PLAIN_FORMATS, or a workbook's own format whose code is not a plain one
    (LibreOffice saves its default style as its own format 164, "General").

    Read as calamine reads them: a workbook's own format (in <numFmts> before <cellXfs>; the
    last one of an id counts) replaces the built-in one of its id, so a built-in plain id
    redefined as a date is a date; comments and prefixed attributes (q:numFmtId) are not
    read."""
    styles_xml = _COMMENT.sub("", styles_xml)  # calamine skips them
    found = _CELL_XFS.search(styles_xml)
    if found is None:
        return frozenset()
    own: dict[int, str] = {}
    # each style's format is settled where <cellXfs> is read: a <numFmts> after it is not used
    for numbers in _NUM_FMTS.findall(styles_xml, 0, found.start()):
        for tag in _NUM_FMT_TAG.finditer(numbers):
            attributes = _attributes(tag.group(1))
            number, code = attributes.get("numFmtId", ""), attributes.get("formatCode")
            if number.isdigit() and code is not None:
                own[int(number)] = html.unescape(code)
    plain = {n for n in PLAIN_FORMATS if n not in own}
    plain |= {n for n, code in own.items() if code in PLAIN_FORMAT_CODES}
    odd = set()
    for index, xf in enumerate(_XF.finditer(found.group(1))):
        given = _attributes(xf.group(1)).get("numFmtId")
        if given is not None and not (given.isdigit() and int(given) in plain):
            odd.add(index)
    return frozenset(odd)


def _attributes(text: str) -> dict[str, str]:
    """An element's attributes by name, as written (q:numFmtId is not numFmtId)."""
    return {
        name: double if double or not single else single
        for name, double, single in _ATTRIBUTE.findall(text)
    }


@dataclass
class _Tally:
    """Running counts of one pass."""

    rows: int = 0
    cells: int = 0
    referenced: int = 0
    last_row: int = 0  # of any row or content cell
    high_row: int = 0  # of content cells
    high_column: int = 0
    valued_row: int = 0  # of content cells whose value follows at once
    valued_column: int = 0
    first_row: int = 0  # the lowest of those (0: none yet)
    first_column: int = 0
    plain: bool = True

    def cell_refs(self, refs: list[tuple[bytes, bytes]]) -> None:
        """Take in content cells' references (column letters, row digits)."""
        if refs:
            self.high_row = max(self.high_row, max(map(_number, set(map(_SECOND, refs)))))
            letters = set(map(_FIRST, refs))
            self.high_column = max(self.high_column, max(map(_column_number, letters)))

    def take(
        self,
        rows: _Numbers,
        columns: npt.NDArray[np.int64],
        content: npt.NDArray[np.bool_],
        valued: npt.NDArray[np.bool_],
    ) -> None:
        """Take in a chunk's cells: their places, which hold content and which a value."""
        if content.any():
            self.high_row = max(self.high_row, rows.highest(content))
            self.high_column = max(self.high_column, int(columns[content].max()))
        if valued.any():
            self.valued_row = max(self.valued_row, rows.highest(valued))
            self.valued_column = max(self.valued_column, int(columns[valued].max()))
            if (self.first_row, self.first_column) != (1, 1):  # else nothing comes before
                low_row, low_column = rows.lowest(valued), int(columns[valued].min())
                self.first_row = min(self.first_row or low_row, low_row)
                self.first_column = min(self.first_column or low_column, low_column)


def scan(archive: zipfile.ZipFile, info: zipfile.ZipInfo, odd_styles: frozenset[int]) -> Extent:
    """Stream a sheet part (zipfile stops at the declared size and checks the CRC, so a part
    that lies about its size fails as damaged) and read its rows' and cells' references."""
    tally = _Tally()
    rest = b""
    with archive.open(info) as part:
        while True:
            chunk = part.read(_CHUNK)
            # one buffer per chunk, padded for _fast's reads past the end (no copies of it)
            buffer = b"".join((rest, chunk, _PAD))
            end = len(buffer) - len(_PAD)
            # Up to the last tag's start: tags and values before it are whole.
            cut = max(buffer.rfind(b"<", 0, end), 0) if chunk else end
            rest = buffer[cut:end]
            if not _fast(buffer, cut, tally, odd_styles):
                tally.plain = False  # written another way: read cell by cell, to be sure
                _general(buffer[:cut], tally)
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
        first=(tally.first_row, tally.first_column) if tally.first_row else None,
    )


def _fast(text: bytes, size: int, tally: _Tally, odd_styles: frozenset[int]) -> bool:
    """Count a chunk written as Excel, openpyxl and xlsxwriter write it (no namespace prefix,
    each cell's reference first, nothing between a cell's tag and the next) with numpy over its
    bytes, and clear tally.plain when a cell may read differently in bulk. False, with the
    tally untouched, when the chunk is written otherwise: the caller counts it with _general.

    Numpy finds every tag's start once and reads a few bytes at each, where a pattern per
    cell made a Python object per cell: a fifth of the time on a 100k-row sheet.
    """
    data = np.frombuffer(text, np.uint8)  # past size: the next chunk's start, then zeros
    starts = np.append(np.flatnonzero(data[:size] == _LT), size)  # the chunk's end as sentinel
    tags = starts[:-1]
    if text.find(b":", 0, size) >= 0 and _prefixed_cells(data, tags, size):
        return False  # <x:c ...>: a namespace prefix
    first, second = data[tags + 1], data[tags + 2]
    value_tags = _named(first, second, _V)
    values = tags[value_tags & (second == _GT)]
    if np.any(data[values + 3] == _LT) or np.any(value_tags & (second != _GT)):
        return False  # <v></v>, <v/>, <v >, <v xml:space=..>: calamine reads it its own way
    if np.count_nonzero(data[:size] == _GT) != len(tags):
        return False  # a ">" in an attribute or a text: patterns stopping at ">" could misread
    cell_at = np.flatnonzero(_named(first, second, _C))
    cells = tags[cell_at]
    if not _all_open_with(data, cells, _CELL_OPEN):
        return False  # <c>, <c/>, <c s="1" r="A1">, <c\nr=...>: the reference not first
    columns, after_letters, lettered = _letters(data, cells + len(_CELL_OPEN))
    cell_rows = _Numbers.at(data, after_letters)
    ends = starts[cell_at + 1] - 1  # a tag ends right before the next one starts
    if not (cell_rows.ok.all() and lettered.all() and np.all(data[ends] == _GT)):
        return False
    row_tags = tags[
        (first == _R) & (second == _O) & (data[tags + 3] == _W) & ~_NAME_BYTE[data[tags + 4]]
    ]
    spaced = row_tags[data[row_tags + 4] == _SPACE]
    row_numbers = _Numbers.at(data, spaced + len(_ROW_OPEN))
    if not (
        row_numbers.ok.all()
        and np.all(np.isin(data[row_tags + 4], _ROW_TAG_ENDS))
        and _all_open_with(data, spaced, _ROW_OPEN)
    ):
        return False  # <row\nr=...>, <row spans="1:2" r="1">
    tally.rows += len(row_tags)
    tally.cells += len(cells)
    tally.referenced += len(cells)
    tally.last_row = max(tally.last_row, row_numbers.highest())
    content = data[ends - 1] != _SLASH  # a self-closing cell holds only a style: calamine skips it
    # ... and a content cell whose value follows at once (<v>, <is>) is never empty to calamine
    following = np.append(first, 0)[cell_at + 1]
    tally.take(cell_rows, columns, content, content & np.isin(following, _VALUE_TAGS))
    if tally.plain:
        tally.plain = _plain(text, size, data, values + 3, odd_styles) and _filled_alike(
            text, size, data, cells, ends, following, first, second
        )
    return True


def _filled_alike(
    text: bytes,
    size: int,
    data: npt.NDArray[np.uint8],
    cells: npt.NDArray[np.intp],
    ends: npt.NDArray[np.intp],
    following: npt.NDArray[np.uint8],
    first: npt.NDArray[np.uint8],
    second: npt.NDArray[np.uint8],
) -> bool:
    """Whether the scan and calamine agree on which cells hold something: not when a cell
    holds a formula (<f> before its value: filled to calamine, not to the scan) or an inline
    string cell a value tag instead of <is> (filled to the scan, empty to calamine; an empty
    one, <c t="inlineStr"></c>, is empty to both). Either at the grid's edge would misplace
    the bulk grid."""
    if np.any(_named(first, second, _F)):
        return False
    if text.find(b"inlineStr", 0, size) < 0:
        return True
    valued = np.flatnonzero(following == _V)  # only these cells' tags are looked into
    if not len(valued):
        return True
    starts, lengths = cells[valued], ends[valued] - cells[valued] + 1
    widest = int(lengths.max())
    if widest > _LONGEST_CELL_TAG:
        return False  # a cell tag of many attributes: read cell by cell rather than look
    window = data[np.minimum(starts[:, None] + np.arange(widest), len(data) - 1)]
    inside = np.arange(widest) < lengths[:, None]
    tag, at = np.nonzero((window == _CAPITAL_S) & inside)  # "inlineStr" by its capital S
    word = starts[tag] + at - _S_AT
    word = word[at >= _S_AT]
    spelled = data[np.minimum(word[:, None] + np.arange(len(_INLINE_WORD)), len(data) - 1)]
    return not np.any(np.all(spelled == np.frombuffer(_INLINE_WORD, np.uint8), axis=1))


def _named(
    first: npt.NDArray[np.uint8], second: npt.NDArray[np.uint8], letter: int
) -> npt.NDArray[np.bool_]:
    """Which tags are the one-letter tag `letter` (<v>, <v/>, <v ...>; not </v> or <vml>),
    from each tag's first two bytes after "<"."""
    named: npt.NDArray[np.bool_] = (first == letter) & ~_NAME_BYTE[second]
    return named


def _prefixed_cells(data: npt.NDArray[np.uint8], tags: npt.NDArray[np.intp], size: int) -> bool:
    """Whether a cell, row or value tag in the chunk has a namespace prefix (<x:c>, <x:row>,
    <x:v>, <x:is>). Other prefixed tags (Excel's <x14:...> extensions, <mc:...>) and colons in
    attributes and text (spans="1:7", x14ac:dyDescent, a URL) do not matter."""
    colons = np.flatnonzero(data[:size] == _COLON)
    before = np.searchsorted(tags, colons) - 1
    opener = np.where(before >= 0, tags[before], -_NAME_AT.size - 2)
    gap = colons - opener - 1  # the name's bytes between '<' (or '</') and the colon
    name = data[np.maximum(opener + 1, 0)[:, None] + _NAME_AT]
    in_name = _NAME_BYTE[name] | (name == _SLASH) | (gap[:, None] <= _NAME_AT)
    prefixed = (gap >= 1) & (gap <= _NAME_AT.size) & in_name.all(axis=1)
    after = data[colons[prefixed][:, None] + _LOCAL_AT]
    local = after[:, 1:]
    ends = ~_NAME_BYTE[local]
    ours = (
        (np.isin(local[:, 0], _ONE_LETTER_TAGS) & ends[:, 1])
        | ((local[:, 0] == _R) & (local[:, 1] == _O) & (local[:, 2] == _W) & ends[:, 3])
        | ((local[:, 0] == ord("i")) & (local[:, 1] == ord("s")) & ends[:, 2])
    )
    return bool(ours.any())


def _all_open_with(data: npt.NDArray[np.uint8], at: npt.NDArray[np.intp], prefix: bytes) -> bool:
    """Whether the bytes at every position `at` start with `prefix`."""
    window = data[at[:, None] + np.arange(len(prefix))]
    return bool(np.all(window == np.frombuffer(prefix, np.uint8)))


def _letters(
    data: npt.NDArray[np.uint8], at: npt.NDArray[np.intp]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.intp], npt.NDArray[np.bool_]]:
    """The column numbers of the references starting at `at` (one to three capital letters),
    where each one's row digits start, and which start with a capital letter at all (r="a1"
    is no reference to calamine)."""
    one, two, three = (data[at + k].astype(np.int64) for k in range(3))
    second = _UPPER[data[at + 1]]
    third = second & _UPPER[data[at + 2]]
    number = np.where(second, (one - 64) * 26 + two - 64, one - 64)
    number = np.where(third, number * 26 + three - 64, number)
    return number, at + 1 + second + third, _UPPER[data[at]]


@dataclass(frozen=True)
class _Numbers:
    """Numbers written in a chunk (row numbers: 1 to 9 digits, then a closing quote), kept as
    their bytes: only the highest of a few subsets is ever needed."""

    window: npt.NDArray[np.uint8]  # each number's bytes and the ones after it
    length: npt.NDArray[np.intp]  # its digits
    ok: npt.NDArray[np.bool_]  # 1 to 9 digits, then the quote

    @classmethod
    def at(cls, data: npt.NDArray[np.uint8], at: npt.NDArray[np.intp]) -> _Numbers:
        window = data[at[:, None] + _NUMBER_AT]
        length = np.argmin(_DIGIT[window], axis=1)  # the first byte not a digit (0: all ten)
        ok = (length >= 1) & (window[np.arange(len(at)), length] == _QUOTE)
        return cls(window, length, ok)

    def highest(self, where: npt.NDArray[np.bool_] | None = None) -> int:
        """The highest number (of those `where` is true for), 0 when none."""
        return self._extreme(where, lowest=False)

    def lowest(self, where: npt.NDArray[np.bool_] | None = None) -> int:
        """The lowest number (of those `where` is true for), 0 when none."""
        return self._extreme(where, lowest=True)

    def _extreme(self, where: npt.NDArray[np.bool_] | None, *, lowest: bool) -> int:
        window, length = (self.window, self.length) if where is None else (
            self.window[where], self.length[where])  # fmt: skip
        if not len(length):
            return 0
        digits = int(length.min() if lowest else length.max())
        top = window[length == digits, :digits]
        if digits <= _PACKED and not np.any(window[:, 0] == ord("0")):
            # Numbers of one length without leading zeros order as their bytes do: read
            # big-endian, the bytes are integers that order alike (no arithmetic per number).
            packed = np.zeros((len(top), _PACKED), np.uint8)
            packed[:, _PACKED - digits :] = top
            ints = packed.view(">u8")
            best = ints.min() if lowest else ints.max()
            return int(int(best).to_bytes(_PACKED, "big")[_PACKED - digits :])
        numbers = np.zeros(len(length), np.int64)  # leading zeros, 9 digits: digit by digit
        for k in range(_NUMBER_AT.size - 1):
            numbers = np.where(k < length, numbers * 10 + window[:, k] - 48, numbers)
        return int(numbers.min() if lowest else numbers.max())


def _general(text: bytes, tally: _Tally) -> None:
    """Count a chunk written any way: namespace prefixes, attributes in any order."""
    tally.rows += len(_ROW_TAG.findall(text))
    tally.cells += len(_CELL_TAG.findall(text))
    tally.referenced += len(_ANY_CELL_REF.findall(text))
    for number in _ROW_REF.findall(text):
        tally.last_row = max(tally.last_row, _number(number))
    tally.cell_refs(_CELL_REF.findall(text))


def _plain(
    text: bytes,
    size: int,
    data: npt.NDArray[np.uint8],
    values: npt.NDArray[np.intp],
    odd_styles: frozenset[int],
) -> bool:
    """True when no cell in `text` may read differently in bulk than cell by cell; `values`
    are where its <v> values start."""
    equals = np.flatnonzero(data[:size] == _EQUALS)
    unusual = not (np.all(data[equals + 1] == _QUOTE) and np.all(_NAME_BYTE[data[equals - 1]]))
    if (_ODD_TYPE_ANY if unusual else _ODD_TYPE).search(text, 0, size):
        return False
    if odd_styles:
        styles = (_STYLE_REF_ANY if unusual else _STYLE_REF).findall(text, 0, size)
        if not odd_styles.isdisjoint(map(_number, set(styles))):
            return False
    window = data[values[:, None] + _VALUE_AT]
    digit = _DIGIT[window]
    length = np.where(digit.all(axis=1), _VALUE_AT.size, np.argmin(digit, axis=1))
    if np.any(length >= _LONG_DIGITS):
        return False  # more digits than a double holds
    # values not a run of digits (a shared string's index, an integer): decimals, signs
    odd = values[window[np.arange(len(values)), length] != _LT]
    if len(odd) > _ODD_VALUES_ONE_BY_ONE:
        return all(_plain_number(v) for v in _ODD_VALUE.findall(text, 0, size))
    return all(_plain_number(_value(text, size, at)) for at in odd.tolist())


def _plain_number(value: bytes) -> bool:
    """A number both readers write alike: no exponent, at most 15 digits, not -0, and (when
    not whole) one whose text to 9 decimal places, trailing zeros dropped (fastexcel's), is
    Python's repr (the cell-by-cell text): not 0.1234567891, 2.0000000001 or 123456789.123
    (written 123456789.122999996 to 9 places)."""
    if not _PLAIN_NUMBER.fullmatch(value):
        return False
    number = float(value)
    if number.is_integer():
        return not (number == 0 and value.startswith(b"-"))
    return f"{number:.9f}".rstrip("0") == repr(number)


def _value(text: bytes, size: int, at: int) -> bytes:
    """The value starting at `at`: up to the next tag, or the chunk's end."""
    end = text.find(b"<", at, size)
    return text[at : end if end >= 0 else size]


def _number(digits: bytes) -> int:
    """A row number as written (leading zeros allowed); _BEYOND when it has more digits."""
    significant = digits.lstrip(b"0")
    return int(significant or b"0") if len(significant) < 10 else _BEYOND


def _column_number(letters: bytes) -> int:
    """Column letters as calamine counts them (each letter's byte - 64: "a" is 33)."""
    if len(letters) > 6:
        return _BEYOND
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number

"""Table columns as cell XML, built once per distinct value.

The big table sheets (Results, Problems) are written as XML by `sheetxml`, not cell by cell
through openpyxl. A column is the XML of each distinct value's cell (everything after
`<c r="B7`) and, per row, which of them it is. Values repeat a lot ("applied", "Webinar 500"),
so each distinct value is cleaned, checked for a formula start and escaped once, with pyarrow,
whatever the number of rows.

Text cells are inline strings, as openpyxl's write-only mode writes them. Text that a
spreadsheet could read as a formula gets the workbook's quotePrefix style: it is a string cell
(never `<f>`) that stays text when edited in Excel.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from batch.report.cells import (
    FORMULA_PATTERN,
    ILLEGAL_PATTERN,
    MAX_CELL_CHARS,
    WIDTH_SAMPLE,
    clean_text,
    looks_like_formula,
    outcome_styles,
)

_FEW_ROWS: Final = 64  # columns this short are built value by value (the vector path costs ms)
_TEXT: Final = pa.large_string()
_ESCAPES: Final = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("\r", "&#13;"))
# Excel reads `_x0041_` in a cell's text as "A": such an underscore is written as `_x005F_`.
_EXCEL_ESCAPE: Final = "_x[0-9A-Fa-f]{4}_"
_EXCEL_ESCAPE_RE: Final = re.compile("_(?=x[0-9A-Fa-f]{4}_)")
# wrapped, at the bottom like the row's other cells, so the row's last lines line up
TABLE_WRAP: Final = Alignment(wrap_text=True)


@dataclass(frozen=True)
class XmlColumn:
    """One table column: each distinct value's cell XML (null: blank cell) and a code per row."""

    cells: Any  # pyarrow large_string array; the XML after `<c r="A1`, e.g. ` t="n"><v>2</v></c>`
    codes: np.ndarray[Any, np.dtype[np.int64]]  # per row, the index of its cell in `cells`
    sample: list[object]  # the first values as written (None when blank), for the column width
    lines: Any = None  # wrapped columns: per cell in `cells`, the lines it takes when printed

    def __len__(self) -> int:
        return len(self.codes)

    def block(self) -> Any:
        """Each row's cell XML, as a pyarrow array (null for blank cells)."""
        return self.cells.take(pa.array(self.codes))


def literal(text: str) -> Any:
    """A pyarrow string scalar that joins with the large_string arrays of this module."""
    return pa.scalar(text, _TEXT)


@dataclass(frozen=True)
class CellStyles:
    """The workbook's style ids of table cells, registered before the workbook is saved."""

    quote: int  # quotePrefix text: input that a spreadsheet could read as a formula
    outcomes: Mapping[str, int]  # each outcome's coloured cell
    wrap: int = 0  # text wrapped in its column's width (long messages, notes)
    wrap_quote: int = 0  # the same for formula-like text


def cell_styles(ws: WriteOnlyWorksheet) -> CellStyles:
    """Register the table cells' styles in `ws`'s workbook (once; then found) and name their ids."""
    cell = WriteOnlyCell(ws, "")
    cell.quotePrefix = True
    wrap = WriteOnlyCell(ws, "")
    wrap.alignment = TABLE_WRAP
    wrap_quote = WriteOnlyCell(ws, "")
    wrap_quote.alignment = TABLE_WRAP
    wrap_quote.quotePrefix = True
    return CellStyles(
        quote=int(cell.style_id),
        outcomes=outcome_styles(ws),
        wrap=int(wrap.style_id),
        wrap_quote=int(wrap_quote.style_id),
    )


def wrapped(column: XmlColumn, styles: CellStyles, width: float) -> XmlColumn:
    """The same text column with its cells wrapping in `width` (unstyled and quote-styled text
    cells), and how many lines each cell takes, for its row's height."""
    cells = pc.replace_substring_regex(
        column.cells, '^" t="inlineStr"', f'" s="{styles.wrap}" t="inlineStr"'
    )
    cells = pc.replace_substring_regex(
        cells, f'^" s="{styles.quote}" ', f'" s="{styles.wrap_quote}" '
    )
    # the cell's XML is its text and ~60 characters of markup; a line holds ~width characters
    chars = pc.fill_null(pc.subtract(pc.utf8_length(cells), 60), 0).to_numpy(zero_copy_only=False)
    breaks = pc.fill_null(pc.count_substring(cells, "\n"), 0).to_numpy(zero_copy_only=False)
    # (words wrap whole and the printer's font may be wider than Excel's: count 80% of a width)
    lines = np.maximum(np.ceil(np.maximum(chars, 0) / max(0.8 * width - 2, 1)), 1) + breaks
    return XmlColumn(cells, column.codes, column.sample, lines.astype(np.int64))


def escape(text: str) -> str:
    """Text for a cell's XML: &, <, > escaped, CR as a reference (a parser reads a bare CR as
    LF), and an underscore that Excel would take for the start of `_xHHHH_` as `_x005F_`."""
    for char, entity in _ESCAPES:
        if char in text:
            text = text.replace(char, entity)
    if "_x" in text:
        text = _EXCEL_ESCAPE_RE.sub("_x005F_", text)
    return text


def text_cell_xml(text: str, style: int | None) -> str:
    """The XML of a text cell after `<c r="A1`: an inline string, with its style if any."""
    space = ' xml:space="preserve"' if text != text.strip() else ""
    style_attr = "" if style is None else f's="{style}" '
    return f'" {style_attr}t="inlineStr"><is><t{space}>{escape(text)}</t></is></c>'


def text_column(
    values: pd.Series, *, quote: int, styles: Mapping[str, int] | None = None
) -> XmlColumn:
    """A text column: blanks empty, illegal characters gone, cut at Excel's limit, formulas text.

    `quote` is the quotePrefix style id (`CellStyles.quote`); `styles` gives exact values their
    own style id (the coloured outcome cells).
    """
    styles = dict(styles or {})
    if len(values) <= _FEW_ROWS:
        return _short_text_column(values, quote, styles)
    encoded = pc.dictionary_encode(_one_array(values.astype("string"), _TEXT))
    text = encoded.dictionary
    if pc.any(pc.match_substring_regex(text, ILLEGAL_PATTERN)).as_py():
        text = pc.replace_substring_regex(text, ILLEGAL_PATTERN, "")
    if pc.any(pc.greater(pc.utf8_length(text), MAX_CELL_CHARS)).as_py():
        text = pc.utf8_slice_codeunits(text, 0, MAX_CELL_CHARS)
    escaped = text
    for char, entity in _ESCAPES:
        escaped = pc.replace_substring(escaped, char, entity)
    lookalike = pc.match_substring_regex(text, _EXCEL_ESCAPE)
    if pc.any(lookalike).as_py():  # rare, and RE2 has no lookahead: these one by one
        rare = pc.filter(text, lookalike).to_pylist()
        escaped = pc.replace_with_mask(
            escaped, lookalike, pa.array([escape(t) for t in rare], type=_TEXT)
        )
    style_attr = pc.if_else(
        pc.match_substring_regex(text, FORMULA_PATTERN), literal(f'" s="{quote}" '), literal('" ')
    )
    if styles:
        keys = list(styles)
        attrs = pa.array([f'" s="{styles[k]}" ' for k in keys], type=_TEXT)
        found = attrs.take(pc.index_in(text, value_set=pa.array(keys, type=_TEXT)))
        style_attr = pc.if_else(pc.is_null(found), style_attr, found)
    space = pc.if_else(
        pc.equal(text, pc.utf8_trim_whitespace(text)), literal(""), literal(' xml:space="preserve"')
    )
    cells = pc.binary_join_element_wise(
        style_attr, literal('t="inlineStr"><is><t'), space, literal(">"), escaped,
        literal("</t></is></c>"), literal(""),
    )  # fmt: skip
    blank = pc.equal(text, literal(""))
    cells = pc.if_else(blank, pa.nulls(len(cells), _TEXT), cells)
    written = pc.if_else(blank, pa.nulls(len(text), _TEXT), text)
    return _column(encoded.indices, cells, written)


def _short_text_column(values: pd.Series, quote: int, styles: dict[str, int]) -> XmlColumn:
    """`text_column` value by value: a file of thousands of columns and a few rows."""
    cells: list[str | None] = []
    written: list[object] = []
    for value in values.astype("string").tolist():
        text = clean_text(value) if isinstance(value, str) else ""
        if text == "":
            cells.append(None)
            written.append(None)
            continue
        style = quote if looks_like_formula(text) else styles.get(text)
        cells.append(text_cell_xml(text, style))
        written.append(text)
    codes = np.arange(len(cells) + 1, dtype=np.int64)[:-1]
    return XmlColumn(pa.array([*cells, None], type=_TEXT), codes, written[:WIDTH_SAMPLE])


def int_column(values: pd.Series) -> XmlColumn:
    """A whole-number column: numbers as `<v>`, missing values blank."""
    numbers = pd.to_numeric(values, errors="coerce").astype("Int64")
    encoded = pc.dictionary_encode(_one_array(numbers, pa.int64()))
    digits = pc.cast(encoded.dictionary, _TEXT)
    cells = pc.binary_join_element_wise(
        literal('" t="n"><v>'), digits, literal("</v></c>"), literal("")
    )
    return _column(encoded.indices, cells, encoded.dictionary)


def _one_array(values: pd.Series, kind: pa.DataType) -> Any:
    """`values` as one pyarrow array of `kind`.

    A pyarrow-backed pandas column (a sync plan's results are concatenated tables) converts to
    a ChunkedArray, whose dictionary encoding has no single dictionary: its chunks are joined.
    """
    array = pa.array(values, type=kind)
    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


def _column(indices: Any, cells: Any, written: Any) -> XmlColumn:
    """An XmlColumn from dictionary indices (null: blank) over `cells`, plus a blank slot."""
    blank = len(cells)
    codes = pc.fill_null(pc.cast(indices, pa.int64()), blank).to_numpy(zero_copy_only=False)
    cells = pa.concat_arrays([cells, pa.nulls(1, cells.type)])
    sample = pa.concat_arrays([written, pa.nulls(1, written.type)]).take(
        pa.array(codes[:WIDTH_SAMPLE])
    )
    return XmlColumn(cells, codes.astype(np.int64, copy=False), sample.to_pylist())

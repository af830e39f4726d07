"""Cell helpers shared by every sheet: safe text, styles, widths and the sheet frame.

Write-only openpyxl sheets are fast only when most values are plain Python values; a styled
`WriteOnlyCell` costs an object per cell. So columns are prepared with pandas (cleaned, blanks
turned into None) and only the rare cell that needs it becomes a `WriteOnlyCell`: input text
that a spreadsheet could read as a formula, and the outcome cell (one shared cell per outcome).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Final

import numpy as np
import pandas as pd
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.properties import PageSetupProperties

from batch.vocabulary import Outcome

# Excel's sheet holds 1,048,576 rows; one is the header.
MAX_SHEET_ROWS: Final = 1_048_576
MAX_DATA_ROWS: Final = MAX_SHEET_ROWS - 1
MAX_CELL_CHARS: Final = 32_767  # Excel's limit for one cell's text

MIN_WIDTH: Final = 6.0
MAX_WIDTH: Final = 60.0
WIDTH_SAMPLE: Final = 2_000  # values looked at per column to estimate its width
_FEW_ROWS: Final = 64  # text columns this short are prepared value by value

# Text a spreadsheet (or a CSV export of it) may read as a formula or command: =, +, -, @,
# their full-width and small forms, the minus sign, and leading tab/CR/LF.
_FORMULA_START: Final = r"^[=+\-@\t\r\n\uff1d\uff0b\uff0d\uff20\ufe62\ufe63\ufe66\u2212]"
_FORMULA_RE: Final = re.compile(_FORMULA_START)
# Control characters XML 1.0 cannot hold (openpyxl refuses them).
_ILLEGAL: Final = r"[\x00-\x08\x0b\x0c\x0e-\x1f]"
_ILLEGAL_RE: Final = re.compile(_ILLEGAL)

OUTCOME_COLOURS: Final[dict[str, str]] = {
    Outcome.APPLIED: "A9D08E",  # green
    Outcome.UNCHANGED: "D9D9D9",  # grey
    Outcome.PLANNED: "9BC2E6",  # blue
    Outcome.VALID: "E2EFDA",  # light green
    Outcome.INVALID: "F4B183",  # orange
    Outcome.FAILED: "FF7C80",  # red
    Outcome.SKIPPED: "FFE699",  # yellow
}

HEADER_FONT: Final = Font(bold=True, color="FFFFFF")
HEADER_FILL: Final = PatternFill("solid", fgColor="305496")
BOLD: Final = Font(bold=True)
SECTION_FONT: Final = Font(bold=True, size=12, color="305496")
NOTE_FONT: Final = Font(italic=True, color="7F7F7F")
WARNING_FONT: Final = Font(bold=True, color="C00000")
DATETIME_FORMAT: Final = 'yyyy-mm-dd hh:mm:ss "UTC"'
MONEY_FORMAT: Final = "#,##0.00"
WRAP: Final = Alignment(wrap_text=True, vertical="top")


def clean_text(text: str) -> str:
    """Text Excel can hold: XML-illegal control characters dropped, cut at Excel's cell limit."""
    if _ILLEGAL_RE.search(text):
        text = _ILLEGAL_RE.sub("", text)
    return text[:MAX_CELL_CHARS]


def looks_like_formula(text: str) -> bool:
    """True when a spreadsheet could take this text for a formula or command."""
    return _FORMULA_RE.match(text) is not None


def text_cell(ws: WriteOnlyWorksheet, text: str) -> WriteOnlyCell:
    """A cell that holds `text` as text, whatever it starts with, and stays text when edited."""
    cell = WriteOnlyCell(ws, clean_text(text))
    cell.data_type = "s"  # openpyxl would make "=..." a formula
    cell.quotePrefix = True  # Excel keeps it text even after the cell is edited
    return cell


def safe(ws: WriteOnlyWorksheet, value: object) -> object:
    """One value for a sheet: text made safe, blanks as None, everything else as is."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, str):
        return _prepare_text(ws, value)
    return value


def text_column(ws: WriteOnlyWorksheet, values: pd.Series) -> list[object]:
    """A text column ready for appending: blanks None, illegal characters gone, formulas text.

    Each distinct value is prepared once (vectorised) and shared by all its rows: repeated
    words ("applied", "Webinar 500") cost one string, not a million copies.
    """
    if len(values) <= _FEW_ROWS:
        # A short column (a file of thousands of columns and a few rows): plain Python beats
        # the vectorised path's fixed cost, which is milliseconds per column.
        return [_prepare_text(ws, v) for v in values.astype("string").tolist()]
    codes, uniques = pd.factorize(values.astype("string"))
    prepared = np.empty(len(uniques) + 1, dtype=object)  # the last slot (code -1) is <NA>
    prepared[:-1] = _prepare_texts(ws, pd.Series(uniques, dtype="string"))
    prepared[-1] = None
    out: list[object] = prepared[codes].tolist()
    return out


def _prepare_texts(ws: WriteOnlyWorksheet, text: pd.Series) -> list[object]:
    """Distinct texts made safe: blanks None, illegal characters gone, formulas as text cells."""
    illegal = text.str.contains(_ILLEGAL, regex=True)
    if bool(illegal.any()):
        text = text.str.replace(_ILLEGAL, "", regex=True)
    long = text.str.len() > MAX_CELL_CHARS
    if bool(long.any()):
        text = text.str.slice(0, MAX_CELL_CHARS)
    out: list[object] = text.astype(object).where(text != "", None).tolist()
    formula = text.str.match(_FORMULA_START)
    for position in formula.to_numpy(dtype=bool).nonzero()[0]:
        out[position] = text_cell(ws, str(out[position]))
    return out


def _prepare_text(ws: WriteOnlyWorksheet, value: object) -> object:
    """One value as `_prepare_texts` makes it: cleaned first, then checked for a formula start."""
    if not isinstance(value, str):
        return None
    text = clean_text(value)
    if text == "":
        return None
    return text_cell(ws, text) if looks_like_formula(text) else text


def int_column(values: pd.Series) -> list[object]:
    """A whole-number column ready for appending: ints, missing values None."""
    numbers = pd.to_numeric(values, errors="coerce").astype("Int64")
    return numbers.astype(object).where(numbers.notna(), None).tolist()


def excel_datetime(moment: datetime) -> datetime:
    """A datetime Excel can store: UTC, without tzinfo (Excel has no time zones)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def styled(
    ws: WriteOnlyWorksheet,
    value: object,
    *,
    font: Font | None = None,
    fill: PatternFill | None = None,
    number_format: str | None = None,
    alignment: Alignment | None = None,
) -> WriteOnlyCell:
    """A styled cell; text is made safe like every other value."""
    if isinstance(value, str):
        value = clean_text(value)  # a header may hold a control character openpyxl refuses
        cell = text_cell(ws, value) if looks_like_formula(value) else WriteOnlyCell(ws, value)
    else:
        cell = WriteOnlyCell(ws, value)
    if font is not None:
        cell.font = font
    if fill is not None:
        cell.fill = fill
    if number_format is not None:
        cell.number_format = number_format
    if alignment is not None:
        cell.alignment = alignment
    return cell


def outcome_cells(ws: WriteOnlyWorksheet) -> dict[str, WriteOnlyCell]:
    """One coloured cell per outcome; write-only sheets copy a cell out as it is appended."""
    return {
        outcome: styled(ws, outcome, fill=PatternFill("solid", fgColor=colour))
        for outcome, colour in OUTCOME_COLOURS.items()
    }


def header_cells(ws: WriteOnlyWorksheet, headers: Sequence[str]) -> list[Cell]:
    """The header row: bold white on blue."""
    return [styled(ws, h, font=HEADER_FONT, fill=HEADER_FILL) for h in headers]


def estimate_width(header: str, values: Iterable[object]) -> float:
    """A column width that fits the header and a sample of values, within MIN/MAX_WIDTH."""
    longest = len(header) + 2  # room for the filter button
    for count, value in enumerate(values):
        if count >= WIDTH_SAMPLE:
            break
        if value is None:
            continue
        text = value.value if isinstance(value, Cell) else value
        if isinstance(text, datetime):
            longest = max(longest, 20)
        elif isinstance(text, float):
            longest = max(longest, len(f"{text:,.2f}"))
        else:
            longest = max(longest, max(len(part) for part in str(text).split("\n")))
    return float(min(max(longest * 1.1 + 1, MIN_WIDTH), MAX_WIDTH))


def frame_table(
    ws: WriteOnlyWorksheet,
    headers: Sequence[str],
    widths: Sequence[float],
    data_rows: int,
) -> None:
    """Column widths, a frozen header row and a filter over the table; call before any row."""
    for index, width in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(index)].width = width
    ws.freeze_panes = "A2"
    last = get_column_letter(max(len(headers), 1))
    ws.auto_filter.ref = f"A1:{last}{data_rows + 1}"
    ws.print_title_rows = "1:1"
    fit_to_width(ws)


def fit_to_width(ws: WriteOnlyWorksheet) -> None:
    """Print landscape, one page wide (as many pages long as needed)."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = "9"  # A4
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0


def sheet_names(base: str, data_rows: int, max_rows: int) -> list[str]:
    """`Results`, `Results (2)`, ... : enough sheets of at most `max_rows` data rows each."""
    count = max(1, -(-data_rows // max_rows))
    return [base if n == 1 else f"{base} ({n})" for n in range(1, count + 1)]

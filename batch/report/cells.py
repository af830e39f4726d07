"""Cell helpers shared by every sheet: safe text, styles, widths and the sheet frame.

The small sheets (Summary, Seats, Chargeback, and every header row) are written through openpyxl
with these helpers; the big tables' rows are XML built per column (`columns`, `sheetxml`). Both
clean text the same way (`clean_text`) and never let input text become a formula.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Final

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
WRAP_WIDTH: Final = 45.0  # a text column wider than this is this wide and its cells wrap
# Printing: A4 landscape with 1 cm side margins holds ~105 characters of column width at 100%
# (measured on LibreOffice's PDFs); text stays >= 8 pt (75% of 11 pt) when a table of at most
# this many characters is fitted to one page wide. A wider table prints at 75%, split across
# pages by columns, its first two columns (Row and Email) repeated on every page.
FIT_WIDTH_CHARS: Final = 135.0
SPLIT_SCALE: Final = 75
WIDTH_SAMPLE: Final = 2_000  # values looked at per column to estimate its width

# Text a spreadsheet (or a CSV export of it) may read as a formula or command: =, +, -, @,
# their full-width and small forms, the minus sign, and leading tab/CR/LF. Both patterns are
# read by Python's re and by pyarrow's RE2 (the non-ASCII characters are literal).
FORMULA_PATTERN: Final = "^[=+\\-@\\t\\r\\n\uff1d\uff0b\uff0d\uff20\ufe62\ufe63\ufe66\u2212]"
_FORMULA_RE: Final = re.compile(FORMULA_PATTERN)
# Control characters XML 1.0 cannot hold (openpyxl refuses them).
ILLEGAL_PATTERN: Final = r"[\x00-\x08\x0b\x0c\x0e-\x1f]"
_ILLEGAL_RE: Final = re.compile(ILLEGAL_PATTERN)

OUTCOME_COLOURS: Final[dict[str, str]] = {
    Outcome.APPLIED: "A9D08E",  # green
    Outcome.UNCHANGED: "D9D9D9",  # grey
    Outcome.PLANNED: "9BC2E6",  # blue
    Outcome.VALID: "E2EFDA",  # light green
    Outcome.INVALID: "F4B183",  # orange
    Outcome.FAILED: "FF7C80",  # red
    Outcome.SKIPPED: "FFE699",  # yellow
}

# The chart's bars: darker than the cell fills so every outcome stands out on white paper.
CHART_COLOURS: Final[dict[str, str]] = {
    Outcome.VALID: "548235",  # dark green
    Outcome.PLANNED: "2E75B6",  # blue
    Outcome.APPLIED: "70AD47",  # green
    Outcome.UNCHANGED: "7F7F7F",  # grey
    Outcome.INVALID: "ED7D31",  # orange
    Outcome.FAILED: "C00000",  # red
    Outcome.SKIPPED: "BF9000",  # dark yellow
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
RIGHT: Final = Alignment(horizontal="right")
HEADER_WRAP: Final = Alignment(wrap_text=True, vertical="bottom")
RIGHT_HEADER_WRAP: Final = Alignment(horizontal="right", wrap_text=True, vertical="bottom")
TWO_LINE_HEIGHT: Final = 30.0  # points: two lines of 11 pt text


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
        text = clean_text(value)
        if text == "":
            return None
        return text_cell(ws, text) if looks_like_formula(text) else text
    return value


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


def outcome_styles(ws: WriteOnlyWorksheet) -> dict[str, int]:
    """The workbook's style id of each outcome's coloured cell (registered if new)."""
    return {
        outcome: int(styled(ws, outcome, fill=PatternFill("solid", fgColor=colour)).style_id)
        for outcome, colour in OUTCOME_COLOURS.items()
    }


def header_cells(
    ws: WriteOnlyWorksheet,
    headers: Sequence[str],
    numbers: Iterable[int] = (),
    *,
    wrap: bool = False,
) -> list[Cell]:
    """The header row: bold white on blue; the headers of number columns (`numbers`, indices)
    right-aligned, over their numbers. `wrap`: headers may take two lines (see
    two_line_width; the caller sets the row's height)."""
    right = set(numbers)
    aligned = (RIGHT_HEADER_WRAP, HEADER_WRAP) if wrap else (RIGHT, None)
    return [
        styled(ws, h, font=HEADER_FONT, fill=HEADER_FILL, alignment=aligned[n not in right])
        for n, h in enumerate(headers)
    ]


def two_line_width(header: str, widest_number: int = 9) -> float:
    """A number column's width that holds its header on at most two lines, split at the space
    that evens them out (room left for the filter button), and numbers of up to
    `widest_number` characters ("12,345.67")."""
    words = header.split(" ")
    shortest = min(
        (
            max(len(" ".join(words[:cut])), len(" ".join(words[cut:])))
            for cut in range(1, len(words))
        ),
        default=len(header),
    )
    return estimate_width("", ["x" * max(shortest + 2, widest_number)])  # + the filter button


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
    *,
    repeat: int = 2,
) -> None:
    """Column widths, a frozen header row and a filter over the table; call before any row.

    A table too wide for one page prints across pages with its first `repeat` columns (the
    line's Row and Email; a group's name) on each."""
    for index, width in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(index)].width = width
    ws.freeze_panes = "A2"
    last = get_column_letter(max(len(headers), 1))
    ws.auto_filter.ref = f"A1:{last}{data_rows + 1}"
    ws.print_title_rows = "1:1"
    if sum(widths) <= FIT_WIDTH_CHARS:
        fit_to_width(ws)
    else:
        split_by_columns(ws, repeat=repeat if len(headers) > repeat else 0)


def fit_to_width(ws: WriteOnlyWorksheet) -> None:
    """Print landscape, one page wide (as many pages long as needed)."""
    _paper(ws)
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0


def split_by_columns(ws: WriteOnlyWorksheet, repeat: int) -> None:
    """Print landscape at SPLIT_SCALE, across as many pages as the columns need, the first
    `repeat` columns on every page."""
    _paper(ws)
    ws.page_setup.scale = SPLIT_SCALE
    ws.page_setup.pageOrder = "overThenDown"
    if repeat:
        ws.print_title_cols = f"A:{get_column_letter(repeat)}"


def _paper(ws: WriteOnlyWorksheet) -> None:
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = "9"  # A4
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.75
    ws.page_margins.header = ws.page_margins.footer = 0.3


def page_marks(ws: WriteOnlyWorksheet, file_name: str, *, sandbox: bool) -> None:
    """Header and footer on every printed page: sheet, input file, page N of M, SANDBOX."""
    ws.oddHeader.left.text = "&A"  # the sheet's name
    ws.oddHeader.center.text = file_name.replace("&", "&&")
    if sandbox:
        ws.oddHeader.right.text = "SANDBOX: not a real Zoom account"
        ws.oddHeader.right.color = "C00000"
        ws.oddHeader.right.font = "-,Bold"
    ws.oddFooter.left.text = "&F"  # the report's file name
    ws.oddFooter.center.text = "Page &P of &N"


def sheet_names(base: str, data_rows: int, max_rows: int) -> list[str]:
    """`Results`, `Results (2)`, ... : enough sheets of at most `max_rows` data rows each."""
    count = max(1, -(-data_rows // max_rows))
    return [base if n == 1 else f"{base} ({n})" for n in range(1, count + 1)]

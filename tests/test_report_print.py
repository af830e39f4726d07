"""The report prints well: wrapped texts, Row and Email first and repeated, >= 8 pt, a header
and footer on every page, a chart of licenses only in colours that show on paper."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from test_report import AFTER, BEFORE, WIDE_RESULTS, loaded_file, result_lines, run_info

from batch.report import write_report
from batch.report.cells import CHART_COLOURS, FIT_WIDTH_CHARS, SPLIT_SCALE


def wide_report(tmp_path: Path, *, sandbox: bool = True, notes: str = "") -> Path:
    """A report of the wide test file, its Notes column as long as asked."""
    row = ("ann@example.com", "Licensed", "1000", "", "Sales", "", notes)
    run = run_info(loaded_file((row,)), is_sandbox=sandbox, account_id="sandbox")
    return write_report(
        tmp_path / "report.xlsx", run, result_lines(WIDE_RESULTS), before=BEFORE, after=AFTER
    )


@pytest.mark.parametrize("sandbox", [True, False], ids=["sandbox", "real-account"])
def test_every_sheet_has_a_header_and_footer(tmp_path: Path, sandbox: bool) -> None:
    """Each sheet prints its name, the input file, page N of M, and SANDBOX on a sandbox run."""
    book = openpyxl.load_workbook(wide_report(tmp_path, sandbox=sandbox))
    for ws in book.worksheets:
        assert ws.oddHeader.left.text == "&A", ws.title
        assert ws.oddHeader.center.text == "users.csv", ws.title
        assert ws.oddFooter.center.text == "Page &P of &N", ws.title
        assert (ws.oddHeader.right.text or "").startswith("SANDBOX") is sandbox, ws.title


def test_a_wide_problems_sheet_splits_by_columns_at_readable_size(tmp_path: Path) -> None:
    """Problems starts with Row and the file's email column; too wide for one page, it prints
    at 75% (8 pt of 11) across pages, Row and Email repeated on each."""
    book = openpyxl.load_workbook(wide_report(tmp_path, notes="a long note " * 20))
    ws = book["Problems"]
    assert [c.value for c in ws[1]][:2] == ["Row", "E-mail"]
    widths = sum(d.width for d in ws.column_dimensions.values())
    assert widths > FIT_WIDTH_CHARS
    assert ws.page_setup.orientation == "landscape"
    assert int(ws.page_setup.scale) == SPLIT_SCALE >= 8 / 11 * 100
    assert not ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.print_title_cols.replace("$", "") == "A:B"
    assert ws.print_title_rows.replace("$", "") == "1:1"


def test_a_narrow_table_fits_one_page_wide(tmp_path: Path) -> None:
    """The Seats sheet, narrow, is fitted to one page wide instead."""
    ws = openpyxl.load_workbook(wide_report(tmp_path))["Seats"]
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.page_setup.fitToWidth == 1


def test_long_texts_wrap_in_a_capped_column_with_the_row_tall_enough(tmp_path: Path) -> None:
    """A long note wraps in a column of sensible width, its row as tall as its lines."""
    note = "a long note " * 20
    ws = openpyxl.load_workbook(wide_report(tmp_path, notes=note))["Results"]
    header = [c.value for c in ws[1]]
    column = header.index("Note") + 1
    cell = ws.cell(2, column)
    assert cell.value == note.strip() or cell.value == note
    assert cell.alignment.wrap_text
    letter = cell.column_letter
    assert 30 <= ws.column_dimensions[letter].width <= 50
    assert ws.row_dimensions[2].height >= 15 * 5  # 240 characters in a 45-wide column


def test_headers_of_numbers_are_right_aligned(tmp_path: Path) -> None:
    """Summary's, Seats' and the tables' number headers sit over their right-aligned numbers."""
    book = openpyxl.load_workbook(wide_report(tmp_path))
    seats = book["Seats"]
    assert [c.alignment.horizontal for c in seats[1]] == [None] + ["right"] * 6
    results = book["Results"]
    assert results["A1"].value == "Row" and results["A1"].alignment.horizontal == "right"
    assert results["B1"].alignment.horizontal is None


def test_chart_shows_licenses_and_groups_the_rest(tmp_path: Path) -> None:
    """The chart's categories are real licenses plus one "not a license" bar; its bars use the
    darker chart colours (no near-white)."""
    row = ("ann@example.com", "Premium", "750", "", "Sales", "", "")
    lines = [
        (2, "ann@example.com", "Premium", "assign", "invalid", "unknown-license", "x", 0,
         "base", ""),
        (2, "ann@example.com", "Webinar 750", "assign", "invalid", "invalid-size", "y", 1,
         "webinar", ""),
        (3, "bob@example.com", "Licensed", "assign", "valid", "", "", 2, "base", ""),
    ]  # fmt: skip
    path = write_report(tmp_path / "r.xlsx", run_info(loaded_file((row,))), result_lines(lines))
    ws = openpyxl.load_workbook(path)["Summary"]
    labels = [r[0] for r in ws.iter_rows(values_only=True) if r and r[0]]
    at = labels.index("License")
    assert labels[at + 1 : at + 5] == ["Licensed", "not a license", "  Webinar 750", "  Premium"]
    chart = ws._charts[0]
    categories = chart.series[0].cat.numRef or chart.series[0].cat.strRef
    first, last = (int(part.lstrip("$A")) for part in categories.f.split("!")[1].split(":"))
    assert last - first == 1  # Licensed and "not a license"
    colours = [str(s.graphicalProperties.solidFill.srgbClr) for s in chart.series]
    assert colours == list(CHART_COLOURS.values())
    assert all(int(c[:2], 16) + int(c[2:4], 16) + int(c[4:], 16) < 3 * 0xC0 for c in colours)


def test_chargeback_headers_take_two_lines_so_the_usual_table_fits_one_page_wide(
    tmp_path: Path,
) -> None:
    """Chargeback's number headers wrap onto two lines in narrower columns, both tables' header
    rows tall enough for them, so a table of the usual licenses is fitted to one page wide
    instead of split with a column or two alone on a second page."""
    ws = openpyxl.load_workbook(wide_report(tmp_path))["Chargeback"]
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.page_setup.fitToWidth == 1
    header_rows = [c.row for c in ws["A"] if c.value in ("Department", "Cost centre")]
    assert len(header_rows) == 2
    for row in header_rows:
        assert ws.row_dimensions[row].height == 30
        cells = [c for c in ws[row] if c.value]
        assert len(cells) >= 4
        for cell in cells[1:]:
            assert cell.alignment.wrap_text and cell.alignment.horizontal == "right"
            width = ws.column_dimensions[cell.column_letter].width
            words = str(cell.value).split(" ")
            halves = min(
                (
                    max(len(" ".join(words[:k])), len(" ".join(words[k:])))
                    for k in range(1, len(words))
                ),
                default=len(words[0]),
            )
            assert halves < width < len(str(cell.value)) + 2 or len(words) == 1, cell.value

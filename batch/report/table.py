"""Write one table (header + rows) on as many sheets as Excel's row limit needs."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

from openpyxl import Workbook

from batch.report.cells import (
    MAX_DATA_ROWS,
    WIDTH_SAMPLE,
    estimate_width,
    frame_table,
    header_cells,
    sheet_names,
)
from batch.report.columns import CellStyles, XmlColumn, cell_styles
from batch.report.sheetxml import TableRows

# Makes the columns of data lines [start, stop), with the workbook's style ids for their cells.
PrepareColumns = Callable[[CellStyles, int, int], Sequence[XmlColumn]]


def write_table(
    wb: Workbook,
    base: str,
    headers: Sequence[str],
    lines: int,
    prepare: PrepareColumns,
    *,
    max_rows: int = MAX_DATA_ROWS,
) -> list[TableRows]:
    """Frame `lines` data lines under `headers` on `base`, `base (2)`, ...; return their rows.

    Each sheet gets its widths (from its first lines), frozen header row, filter and header
    now. Its data rows are prepared block by block while the workbook is saved
    (`sheetxml.save_workbook`), so a huge table is never held in memory as cells.
    """
    tables: list[TableRows] = []
    for number, name in enumerate(sheet_names(base, lines, max_rows)):
        start = number * max_rows
        stop = min(start + max_rows, lines)
        ws = wb.create_sheet(name)
        styles = cell_styles(ws)
        first = prepare(styles, start, min(stop, start + WIDTH_SAMPLE))
        widths = [estimate_width(h, c.sample) for h, c in zip(headers, first, strict=True)]
        frame_table(ws, headers, widths, stop - start)
        ws.append(header_cells(ws, headers))
        tables.append(TableRows(name, start, stop, len(headers), partial(prepare, styles)))
    return tables

"""Write one table (header + rows) on as many sheets as Excel's row limit needs."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from openpyxl import Workbook
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from batch.report.cells import MAX_DATA_ROWS, estimate_width, frame_table, header_cells, sheet_names
from batch.report.columns import XmlColumn
from batch.report.sheetxml import TableRows

# Makes the columns of data lines [start, stop) for one sheet; `ws` registers the cell styles.
PrepareColumns = Callable[[WriteOnlyWorksheet, int, int], Sequence[XmlColumn]]


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

    Each sheet gets its widths, frozen header row, filter and header now; its data rows are
    written as XML when the workbook is saved (`sheetxml.save_workbook`).
    """
    tables: list[TableRows] = []
    for number, name in enumerate(sheet_names(base, lines, max_rows)):
        start = number * max_rows
        stop = min(start + max_rows, lines)
        ws = wb.create_sheet(name)
        columns = prepare(ws, start, stop)
        widths = [estimate_width(h, c.sample) for h, c in zip(headers, columns, strict=True)]
        frame_table(ws, headers, widths, stop - start)
        ws.append(header_cells(ws, headers))
        tables.append(TableRows(name, columns))
    return tables

"""Write one table (header + rows) on as many sheets as Excel's row limit needs."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from openpyxl import Workbook
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from batch.report.cells import MAX_DATA_ROWS, estimate_width, frame_table, header_cells, sheet_names

# Makes the columns of data lines [start, stop) for one sheet, each a list of cell values.
PrepareColumns = Callable[[WriteOnlyWorksheet, int, int], Sequence[list[object]]]


def write_table(
    wb: Workbook,
    base: str,
    headers: Sequence[str],
    lines: int,
    prepare: PrepareColumns,
    *,
    max_rows: int = MAX_DATA_ROWS,
) -> list[str]:
    """Write `lines` data lines under `headers` on `base`, `base (2)`, ...; return sheet names.

    Columns are prepared per sheet so that a huge table is never held twice in memory.
    """
    names = sheet_names(base, lines, max_rows)
    for number, name in enumerate(names):
        start = number * max_rows
        stop = min(start + max_rows, lines)
        ws = wb.create_sheet(name)
        columns = prepare(ws, start, stop)
        widths = [estimate_width(h, col) for h, col in zip(headers, columns, strict=True)]
        frame_table(ws, headers, widths, stop - start)
        ws.append(header_cells(ws, headers))
        append = ws.append
        for row in zip(*columns, strict=True):
            append(row)
    return names

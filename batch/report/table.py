"""Write one table (header + rows) on as many sheets as Excel's row limit needs."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

from openpyxl import Workbook

from batch.report.cells import (
    MAX_DATA_ROWS,
    WIDTH_SAMPLE,
    WRAP_WIDTH,
    estimate_width,
    frame_table,
    header_cells,
    sheet_names,
)
from batch.report.columns import CellStyles, XmlColumn, cell_styles, wrapped
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
    (`sheetxml.save_workbook`), so a huge table is never held in memory as cells. A column whose
    text is wider than WRAP_WIDTH is that wide and its cells wrap (messages, reasons, notes).
    """
    tables: list[TableRows] = []
    for number, name in enumerate(sheet_names(base, lines, max_rows)):
        start = number * max_rows
        stop = min(start + max_rows, lines)
        ws = wb.create_sheet(name)
        styles = cell_styles(ws)
        first = prepare(styles, start, min(stop, start + WIDTH_SAMPLE))
        widths = [estimate_width(h, c.sample) for h, c in zip(headers, first, strict=True)]
        wrap = frozenset(n for n, w in enumerate(widths) if w > WRAP_WIDTH)
        widths = [min(w, WRAP_WIDTH) for w in widths]
        frame_table(ws, headers, widths, stop - start)
        numbers = [n for n, c in enumerate(first) if _is_number_column(c)]
        ws.append(header_cells(ws, headers, numbers))
        rows = partial(_prepare_wrapped, prepare, styles, {n: widths[n] for n in wrap})
        tables.append(TableRows(name, start, stop, len(headers), rows))
    return tables


def _prepare_wrapped(
    prepare: PrepareColumns, styles: CellStyles, wrap: dict[int, float], start: int, stop: int
) -> Sequence[XmlColumn]:
    columns = prepare(styles, start, stop)
    return [wrapped(c, styles, wrap[n]) if n in wrap else c for n, c in enumerate(columns)]


def _is_number_column(column: XmlColumn) -> bool:
    """True for a column of numbers (Row): its header goes right, over the numbers."""
    values = [v for v in column.sample if v is not None]
    return bool(values) and all(isinstance(v, int) for v in values)

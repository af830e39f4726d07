"""A sheet read in bulk: fastexcel parses it (calamine, in Rust) straight into Arrow columns of
text, with no Python object per cell. Only for sheets whose cells read the same this way as
cell by cell (sheetscan.Extent.plain); the caller reads any other sheet cell by cell.
"""

from __future__ import annotations

import logging

import fastexcel
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

log = logging.getLogger(__name__)


def panicked(error: BaseException) -> bool:
    """Whether `error` is a Rust reader's panic (pyo3's PanicException: a BaseException, which
    the calamine bindings do not export)."""
    return type(error).__name__ == "PanicException"


def read(
    data: bytes, name: str, first: tuple[int, int], last: tuple[int, int]
) -> pd.DataFrame | None:
    """Sheet `name` as text columns 0..n-1 from column A (empty cells ""), indexed by the
    sheet's row numbers; None when the reader fails or its grid is not the one the scan
    found, so the caller reads it cell by cell.

    The reader's grid runs from the first to the last cell with a value; `first` and `last`
    (row, column; 1-based), found by the scan, place it on the sheet. A grid of another shape
    means the reader took a cell at the edge as empty that the scan took as filled, or the
    other way round: placed from one corner, every cell would shift.
    """
    try:
        batch = fastexcel.read_excel(data).load_sheet(
            name, header_row=None, dtypes="string", eager=True
        )
    except Exception:  # a chart sheet, a damaged part: the cell-by-cell reader says why
        log.debug("bulk read of sheet %r failed", name, exc_info=True)
        return None
    except BaseException as error:  # the reader's own panic (not an Exception): same
        if not panicked(error):
            raise
        log.debug("bulk read of sheet %r panicked", name, exc_info=True)
        return None
    if not isinstance(batch, pa.RecordBatch):
        return None
    height, width = batch.shape
    if (height, width) != (last[0] - first[0] + 1, last[1] - first[1] + 1) or min(first) < 1:
        log.debug("bulk read of %r: grid %s is not %s to %s", name, batch.shape, first, last)
        return None
    blank = pa.array([""] * height, pa.string()) if first[1] > 1 else None
    texts = [pc.fill_null(c.cast(pa.string()), "") for c in batch.columns]
    columns = [blank] * (first[1] - 1) + texts
    names = [str(i) for i in range(len(columns))]
    table: pd.DataFrame = pa.Table.from_arrays(columns, names=names).to_pandas()
    table.columns = pd.RangeIndex(len(columns))
    table.index = pd.RangeIndex(first[0], last[0] + 1)
    return table

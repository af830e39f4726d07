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


def read(
    data: bytes, name: str, first: tuple[int, int], last: tuple[int, int]
) -> pd.DataFrame | None:
    """Sheet `name` as text columns 0..n-1 from column A (empty cells ""), indexed by the
    sheet's row numbers; None when the reader fails or its grid is not the box from `first`
    to `last` (row, column; 1-based) the scan found, so the caller reads it cell by cell."""
    try:
        batch = fastexcel.read_excel(data).load_sheet(
            name, header_row=None, dtypes="string", eager=True
        )
    except Exception:  # a chart sheet, a damaged part: the cell-by-cell reader says why
        log.debug("bulk read of sheet %r failed", name, exc_info=True)
        return None
    height, width = last[0] - first[0] + 1, last[1] - first[1] + 1
    if not isinstance(batch, pa.RecordBatch) or batch.shape != (height, width):
        log.debug("bulk read of %r: grid %s, the scan found %s", name, batch.shape, (height, width))
        return None
    blank = pa.array([""] * height, pa.string()) if first[1] > 1 else None
    columns = [blank] * (first[1] - 1) + [pc.fill_null(c.cast(pa.string()), "") for c in batch.columns]
    names = [str(i) for i in range(len(columns))]
    table = pa.Table.from_arrays(columns, names=names).to_pandas()
    table.columns = pd.RangeIndex(len(columns))
    table.index = pd.RangeIndex(first[0], last[0] + 1)
    return table

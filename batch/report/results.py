"""The `Results` sheet (and `Results (2)`, ... past Excel's row limit): one line per result."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np
import pandas as pd
from openpyxl import Workbook

from batch.model import RunInfo
from batch.report.cells import MAX_DATA_ROWS
from batch.report.columns import CellStyles, XmlColumn, int_column, text_column
from batch.report.sheetxml import TableRows
from batch.report.table import write_table
from batch.scrub import scrub_column

RESULTS_SHEET: Final = "Results"
RESULT_HEADERS: Final = ("Row", "Email", "License", "Action", "Outcome", "Code", "Message")
DONE_EARLIER_HEADER: Final = "Done earlier"  # only when an earlier run did some lines
DONE_EARLIER_MARK: Final = "yes"


def input_values(source: pd.DataFrame, columns: list[str], rows: pd.Series) -> list[pd.Series]:
    """The input file's cells of `columns` for each result's row; None where there is no row.

    The rows are picked once for all the columns: a file of thousands of columns costs one
    pick, not one per column.
    """
    wanted = pd.to_numeric(rows, errors="coerce").fillna(-1).astype("int64").to_numpy()
    positions = source.index.get_indexer(pd.Index(wanted))
    found = positions >= 0
    picked = np.full((len(wanted), len(columns)), None, dtype=object)
    if found.any() and columns:
        at = source.columns.get_indexer(pd.Index(columns))
        if (at < 0).any():  # extra columns come from the source: never, but never silently
            raise KeyError([c for c, i in zip(columns, at, strict=True) if i < 0])
        picked[found] = source.iloc[positions[found], at].to_numpy(dtype=object)
    return [pd.Series(picked[:, i], index=rows.index, dtype=object) for i in range(len(columns))]


def result_headers(run: RunInfo, results: pd.DataFrame) -> list[str]:
    """The Results columns: the fixed ones, the carried-through input columns, the earlier mark."""
    # a carried column named like one of ours (a Problems sheet's Row sent again) says so
    carried = [f"{c} (file)" if c in RESULT_HEADERS else c for c in run.file.extra_columns]
    headers = [*RESULT_HEADERS, *carried]
    if _done_earlier(results).any():
        headers.append(DONE_EARLIER_HEADER)
    return headers


def _done_earlier(results: pd.DataFrame) -> pd.Series:
    if "done_earlier" not in results.columns:
        return pd.Series(False, index=results.index)
    return results["done_earlier"].fillna(False).astype(bool)


def write_results(
    wb: Workbook, run: RunInfo, results: pd.DataFrame, *, max_rows: int = MAX_DATA_ROWS
) -> list[TableRows]:
    """Frame the result lines' sheets `Results`, `Results (2)`, ...; return their rows."""
    headers = result_headers(run, results)
    with_mark = headers[-1] == DONE_EARLIER_HEADER

    def prepare(styles: CellStyles, start: int, stop: int) -> Sequence[XmlColumn]:
        part = results.iloc[start:stop]
        quote = styles.quote
        columns = [
            int_column(part["row"]),
            text_column(part["email"], quote=quote),
            text_column(part["license"], quote=quote),
            text_column(part["action"], quote=quote),
            text_column(part["outcome"], quote=quote, styles=styles.outcomes),
            text_column(part["code"], quote=quote),
            text_column(scrub_column(part["message"]), quote=quote),
        ]
        extra = input_values(run.file.source, list(run.file.extra_columns), part["row"])
        columns.extend(text_column(values, quote=quote) for values in extra)
        if with_mark:
            marks = _done_earlier(part).map({True: DONE_EARLIER_MARK, False: None})
            columns.append(text_column(marks, quote=quote))
        return columns

    return write_table(wb, RESULTS_SHEET, headers, len(results), prepare, max_rows=max_rows)

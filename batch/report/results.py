"""The `Results` sheet (and `Results (2)`, ... past Excel's row limit): one line per result."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from batch.model import RunInfo
from batch.report.cells import MAX_DATA_ROWS, int_column, outcome_cells, safe, text_column
from batch.report.table import write_table

RESULTS_SHEET: Final = "Results"
RESULT_HEADERS: Final = ("Row", "Email", "License", "Action", "Outcome", "Code", "Message")
DONE_EARLIER_HEADER: Final = "Done earlier"  # only when an earlier run did some lines
DONE_EARLIER_MARK: Final = "yes"


def input_values(source: pd.DataFrame, column: str, rows: pd.Series) -> pd.Series:
    """The input file's cells of one column for each result's row; <NA> where there is no row."""
    wanted = pd.to_numeric(rows, errors="coerce").fillna(-1).astype("int64").to_numpy()
    positions = source.index.get_indexer(pd.Index(wanted))
    values = np.append(source[column].astype(object).to_numpy(), [None])
    return pd.Series(values[positions], index=rows.index, dtype=object)


def result_headers(run: RunInfo, results: pd.DataFrame) -> list[str]:
    """The Results columns: the fixed ones, the carried-through input columns, the earlier mark."""
    headers = [*RESULT_HEADERS, *run.file.extra_columns]
    if _done_earlier(results).any():
        headers.append(DONE_EARLIER_HEADER)
    return headers


def _done_earlier(results: pd.DataFrame) -> pd.Series:
    if "done_earlier" not in results.columns:
        return pd.Series(False, index=results.index)
    return results["done_earlier"].fillna(False).astype(bool)


def write_results(
    wb: Workbook, run: RunInfo, results: pd.DataFrame, *, max_rows: int = MAX_DATA_ROWS
) -> list[str]:
    """Write the result lines on `Results`, `Results (2)`, ...; return the sheet names."""
    headers = result_headers(run, results)
    with_mark = headers[-1] == DONE_EARLIER_HEADER

    def prepare(ws: WriteOnlyWorksheet, start: int, stop: int) -> Sequence[list[object]]:
        part = results.iloc[start:stop]
        by_outcome = outcome_cells(ws)
        outcomes = part["outcome"].astype("string").fillna("").tolist()
        columns: list[list[object]] = [
            int_column(part["row"]),
            text_column(ws, part["email"]),
            text_column(ws, part["license"]),
            text_column(ws, part["action"]),
            [by_outcome[o] if o in by_outcome else safe(ws, o) for o in outcomes],
            text_column(ws, part["code"]),
            text_column(ws, part["message"]),
        ]
        for column in run.file.extra_columns:
            columns.append(text_column(ws, input_values(run.file.source, column, part["row"])))
        if with_mark:
            marks = _done_earlier(part).to_numpy(dtype=bool)
            columns.append([DONE_EARLIER_MARK if m else None for m in marks])
        return columns

    return write_table(wb, RESULTS_SHEET, headers, len(results), prepare, max_rows=max_rows)

"""The `Problems` sheet: the invalid, failed and skipped lines as a file an admin can fix and
upload again.

It has `Row` (the row number Excel shows in the input), the input's email column, the input's
other columns (original headers, file order) and `Reason`, one row per input row with a
problem; Row and the email come first so that a print split across pages by columns repeats
them on every page (sent again, `Row` is carried through as `Row (file)`). For the wide
layout the license cells of that row whose lines went fine are blanked (blank means "leave as
it is"), so a re-upload redoes only what failed; for the long layout each row is one license
and is copied as is. Lines that do not come from the file (sync
removals of users not in it) follow, written in the file's own columns as far as they go.
"""

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
from batch.vocabulary import PROBLEM_OUTCOMES, WIDE_FIELDS, Action, Kind

PROBLEMS_SHEET: Final = "Problems"
REASON_HEADER: Final = "Reason"
ROW_HEADER: Final = "Row"
_KIND_FIELDS: Final[dict[str, str]] = {
    Kind.BASE: "user_type",
    **{k: k.value for k in Kind if k is not Kind.BASE},
}


def problem_lines(results: pd.DataFrame) -> pd.DataFrame:
    """The result lines that are invalid, failed or skipped, in their order."""
    mask = results["outcome"].astype("string").isin([str(o) for o in PROBLEM_OUTCOMES])
    return results.loc[mask.fillna(False).astype(bool)]


def _reasons(lines: pd.DataFrame) -> pd.Series:
    code = lines["code"].astype("string").fillna("")
    message = scrub_column(lines["message"]).astype("string").fillna("")
    joined = code + ": " + message
    return joined.where(code != "", message).where(message != "", code)


def _line_columns(run: RunInfo, lines: pd.DataFrame) -> pd.Series:
    """The input column each line came from: its request's column, else its kind's column."""
    requests = run.file.requests
    by_request = pd.Series(requests["column"].to_numpy(), index=requests["request"].to_numpy())
    by_request = by_request[~by_request.index.duplicated()]
    columns = lines["request"].map(by_request) if "request" in lines else None
    by_kind = {
        str(kind): run.file.fields[field]
        for kind, field in _KIND_FIELDS.items()
        if field in run.file.fields
    }
    fallback = lines["kind"].astype("string").map(by_kind)
    if columns is None:
        return fallback.astype(object)
    return columns.astype(object).where(columns.notna(), fallback.astype(object))


def _row_reasons(lines: pd.DataFrame) -> pd.Series:
    """Each row's distinct reasons in line order, joined with "; "; indexed by row, sorted."""
    rows = lines["row"].to_numpy(dtype=np.int64)
    if len(rows) == 0:
        return pd.Series([], index=pd.Index([], dtype=np.int64), dtype=object)
    order = np.argsort(rows, kind="stable")
    rows = rows[order]
    reasons = lines["reason"].astype(object).to_numpy()[order]
    starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
    stops = np.r_[starts[1:], len(rows)]
    joined = reasons[starts]
    for n in np.flatnonzero(stops - starts > 1):  # most rows have one problem line
        joined[n] = "; ".join(dict.fromkeys(reasons[starts[n] : stops[n]]))
    return pd.Series(joined, index=rows[starts], dtype=object)


def problems_table(run: RunInfo, results: pd.DataFrame) -> pd.DataFrame:
    """The Problems sheet as a table of text: the input's headers plus Reason."""
    source = run.file.source
    headers = [str(c) for c in source.columns]
    if REASON_HEADER not in headers:
        headers.append(REASON_HEADER)
    lines = problem_lines(results).assign(reason=lambda d: _reasons(d))
    rows = pd.to_numeric(lines["row"], errors="coerce")
    in_file = lines.loc[rows.notna() & rows.isin(source.index)]
    in_file = in_file.assign(row=rows[in_file.index].astype("int64"))

    reason = _row_reasons(in_file)
    table = source.loc[reason.index].astype("string").fillna("")
    table.columns = [str(c) for c in table.columns]
    # concat, not table[REASON_HEADER] = ...: a file of thousands of columns is as many blocks,
    # and inserting into it warns of fragmentation
    reason_column = pd.Series(reason.to_numpy(), index=table.index, name=REASON_HEADER)
    table = pd.concat(
        [table.drop(columns=REASON_HEADER, errors="ignore"), reason_column.astype("string")],
        axis=1,
    )

    if run.file.layout == "wide":
        kept = _line_columns(run, in_file)
        for field in WIDE_FIELDS:
            header = run.file.fields.get(field)
            if header is None or header not in table.columns:
                continue
            keep_rows = in_file.loc[(kept == header).to_numpy(), "row"].unique()
            table.loc[~table.index.isin(keep_rows), header] = ""

    outside = lines.loc[~lines.index.isin(in_file.index)]
    extra = _outside_rows(run, outside, headers)
    numbers = pd.Series([*reason.index, *([pd.NA] * len(extra))], dtype="Int64")
    email = run.file.fields.get("email")
    first = [email] if email in headers else []
    ordered = [*first, *(h for h in headers if h not in first)]
    both = pd.concat([table[headers], extra], ignore_index=True)[ordered]
    row_header = ROW_HEADER if ROW_HEADER not in headers else f"Excel {ROW_HEADER.lower()}"
    return pd.concat([numbers.rename(row_header), both], axis=1)


def _outside_rows(run: RunInfo, lines: pd.DataFrame, headers: list[str]) -> pd.DataFrame:
    """Lines of users not in the file, in the file's columns as far as they can say it."""
    fields = run.file.fields
    rows: list[dict[str, str]] = []
    for line in lines.itertuples(index=False):
        row = dict.fromkeys(headers, "")
        row[REASON_HEADER] = f"not in the file: {line.reason}"
        if "email" in fields:
            row[fields["email"]] = str(line.email)
        label, action, kind = str(line.license), str(line.action), str(line.kind)
        if run.file.layout == "long" and "license" in fields:
            if action != Action.REMOVE or "action" in fields:
                row[fields["license"]] = label
                if "action" in fields:
                    row[fields["action"]] = action
        elif kind in _KIND_FIELDS and _KIND_FIELDS[kind] in fields:
            header = fields[_KIND_FIELDS[kind]]
            if kind == Kind.BASE:
                row[header] = label
            else:
                size = line.size
                row[header] = "remove" if action == Action.REMOVE else str(size)
        rows.append(row)
    return pd.DataFrame(rows, columns=headers, dtype=object)


def write_problems(
    wb: Workbook, run: RunInfo, results: pd.DataFrame, *, max_rows: int = MAX_DATA_ROWS
) -> list[TableRows]:
    """Frame the Problems table's sheets `Problems`, `Problems (2)`, ...; return their rows."""
    table = problems_table(run, results)
    headers = [str(c) for c in table.columns]

    def prepare(styles: CellStyles, start: int, stop: int) -> Sequence[XmlColumn]:
        part = table.iloc[start:stop]
        texts = [text_column(part.iloc[:, n], quote=styles.quote) for n in range(1, len(headers))]
        return [int_column(part.iloc[:, 0]), *texts]

    return write_table(wb, PROBLEMS_SHEET, headers, len(table), prepare, max_rows=max_rows)

"""The planner's working table, declared once: one line per result, in result order.

`plan` starts it from the file-rules results (`_working_table`), the account rules fill in who
each line is about and what it would change (`attach_users`, then the rules edit it in place),
downgrade and sync lines are appended, and the operations and the results are read off it.

    file-rules results  -> WorkingTable (attach_users) -> rules -> + extra lines -> operations
"""

from __future__ import annotations

from typing import TypeAlias, cast

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.typing import DataFrame, Series


class WorkingTable(pa.DataFrameModel):
    """The columns every planning function may read; extra columns from the file pass through.

    Text columns are "" when empty and flags False, never missing (`conform` restores that
    after lines are appended); only `row` (sync lines), `size` and `held` may be <NA>.
    """

    # the file-rules results (batch.model RESULT_COLUMNS + RESULT_INTERNAL_COLUMNS)
    row: Series[pd.Int64Dtype] = pa.Field(nullable=True)  # <NA> on sync lines
    email: Series[str]  # as typed
    license: Series[str]
    action: Series[str]  # Action value
    outcome: Series[str]  # Outcome value
    code: Series[str]
    message: Series[str]
    request: Series[int]  # stable id; the planner's own lines get ids after the file's
    kind: Series[str]  # Kind value
    user_type: Series[str]  # UserType value (base lines)
    size: Series[pd.Int64Dtype] = pa.Field(nullable=True)
    previous: Series[str]  # what the user held of the line's license
    # the planner's own
    key: Series[str]  # lower-case email: the user the line is about
    file_valid: Series[bool]  # passed the file rules
    note: Series[str]  # the loader's note, starts the final message
    sync: Series[bool]  # a line sync added
    u_found: Series[bool]  # the user is in the account
    u_id: Series[str]  # "" for pending users
    u_type: Series[str]  # the user's type now ("" when unmanaged or not found)
    u_status: Series[str]
    u_known: Series[bool]  # the user's add-ons were read
    held: Series[pd.Int64Dtype] = pa.Field(nullable=True)  # held size of the line's add-on
    take: Series[str]  # seat text a grant takes ("" none; see seats.seat_text)
    free: Series[str]  # seat text a removal or size change gives back
    change: Series[bool]  # a size change: takes `take` and frees `free`

    class Config:
        strict = False  # the file's own extra columns pass through
        coerce = False  # a wrong dtype is a planner bug, not something to fix quietly


# The working table as a type: what planning functions take and return.
Working: TypeAlias = DataFrame[WorkingTable]


def checked(lines: pd.DataFrame) -> Working:
    """The table validated against WorkingTable (all failures at once); raises SchemaErrors."""
    return WorkingTable.validate(lines, lazy=True)


_INTEGERS = ("row", "size", "held")
_FLAGS = ("done_earlier", "file_valid", "sync", "u_found", "u_known", "change")
_TEXTS = (
    "email", "license", "action", "outcome", "code", "message", "kind", "user_type", "previous",
    "key", "note", "u_id", "u_type", "u_status", "take", "free",
)  # fmt: skip


def conform(lines: pd.DataFrame) -> Working:
    """The table with its declared dtypes again after lines were appended (concat leaves the
    new lines' missing cells as NaN, Int64 as Float64 and flags as object): "" for missing
    text, False for missing flags."""
    for name in (*_INTEGERS, *(f for f in _FLAGS if f in lines), *_TEXTS):
        lines[name] = conform_column(name, lines[name])
    return cast(Working, lines)


def conform_column(name: str, column: pd.Series) -> pd.Series:
    """One column of `conform`: Int64, a flag without missing cells or text ("" for missing);
    a column the table does not declare, unchanged."""
    if name in _INTEGERS:
        return column.astype("Int64")
    if name in _FLAGS:
        return column.fillna(False).astype(bool)
    if name in _TEXTS:
        return column.fillna("").astype(str)
    return column


def is_conformed(name: str, column: pd.Series) -> bool:
    """Whether `conform_column(name, column)` would leave the values and dtype as they are: a
    declared column with its dtype and, for text and flags, no missing cell."""
    if name in _INTEGERS:
        return isinstance(column.dtype, pd.Int64Dtype)
    if name in _FLAGS:
        return column.dtype == bool
    if name in _TEXTS:
        # exactly what astype(str) makes (python-backed "str" compares equal to "str" too)
        return column.dtype == pd.StringDtype(na_value=np.nan) and not column.hasnans
    return False


__all__ = ["Working", "WorkingTable", "checked", "conform", "conform_column", "is_conformed"]

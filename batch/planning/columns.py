"""Column helpers for the planner's million-line tables, done by Arrow where pandas is slow.

pandas' `isin` on Arrow text turns every value of the set into a pyarrow scalar one by one
(seconds for a set of 500k emails), and `Index.get_indexer` / `Series.map` hash Python objects;
`pyarrow.compute.is_in` and `index_in` do the same work on the Arrow buffers.

    isin_texts(w["key"], upgraded)     -> bool ndarray: the key is one of the texts
    positions_in(w["key"], users.index) -> int64 ndarray: position in the index, -1 when absent
    set_where(w, rows, "outcome", "planned") -> w.loc[rows, "outcome"] = "planned", by Arrow
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def _arrow_text(values: pd.Series | pd.Index) -> pa.Array | pa.ChunkedArray | None:
    """The Arrow array under a text Series or Index, or None when it is not Arrow text."""
    array: Any = values.array
    data = getattr(array, "_pa_array", None)
    if data is None or not (pa.types.is_string(data.type) or pa.types.is_large_string(data.type)):
        return None
    return data


def isin_texts(
    values: pd.Series, texts: Collection[str] | pd.Series
) -> np.ndarray[Any, np.dtype[np.bool_]]:
    """Whether each value is one of `texts`, as a bool ndarray (a missing value never is).

    `texts` may be a text Series: its Arrow array is the set as it is, no Python strings."""
    data = _arrow_text(values)
    if data is None or not len(texts):
        return values.isin(list(texts)).to_numpy(dtype=bool)
    given = _arrow_text(texts) if isinstance(texts, pd.Series) else None
    if given is None:
        given = pa.array(list(texts), type=data.type)
    found = pc.is_in(data, value_set=given.cast(data.type), skip_nulls=True)
    return np.asarray(found.to_numpy(zero_copy_only=False), dtype=bool)


def set_where(
    table: pd.DataFrame, rows: np.ndarray[Any, np.dtype[np.bool_]], column: str, value: object
) -> None:
    """`table.loc[rows, column] = value`; one text on Arrow text is chosen line by line by
    Arrow (`if_else`), a few times faster than pandas' `replace_with_mask` on a million lines."""
    data = _arrow_text(table[column]) if isinstance(value, str) else None
    if data is None:
        table.loc[rows, column] = value  # type: ignore[call-overload]  # any value pandas sets
        return
    chosen = pc.if_else(pa.array(rows, type=pa.bool_()), pa.scalar(value, data.type), data)
    table[column] = pd.Series(pd.array(chosen, dtype=table[column].dtype), index=table.index)


def positions_in(values: pd.Series, index: pd.Index) -> np.ndarray[Any, np.dtype[np.int64]]:
    """Each value's position in `index` (unique), -1 when it is not there."""
    data, labels = _arrow_text(values), _arrow_text(index)
    if data is None or labels is None:
        return np.asarray(index.get_indexer(pd.Index(values)), dtype=np.int64)
    found = pc.index_in(data, value_set=labels.cast(data.type), skip_nulls=True)
    return np.asarray(found.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)


__all__ = ["isin_texts", "positions_in", "set_where"]

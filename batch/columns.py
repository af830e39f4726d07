"""Column helpers for million-line tables (the planner's, the report's), done by Arrow where
pandas is slow.

pandas' `isin` on Arrow text turns every value of the set into a pyarrow scalar one by one
(seconds for a set of 500k emails), and `Index.get_indexer` / `Series.map` hash Python objects;
`pyarrow.compute.is_in` and `index_in` do the same work on the Arrow buffers.

    isin_texts(w["key"], upgraded)     -> bool ndarray: the key is one of the texts
    positions_in(w["key"], users.index) -> int64 ndarray: position in the index, -1 when absent
    set_where(w, rows, "outcome", "planned") -> w.loc[rows, "outcome"] = "planned", by Arrow
    scatter(w, positions, "outcome", sub["outcome"]) -> the column with those lines' new values
    texts_at(users["u_id"], positions, w.index) -> the users' texts per line, "" when absent
    int_texts(sizes) / mapped_texts(kinds, names) -> astype(str) / map(...) without Python objects
    text_codes(keys)                  -> an integer per text (equal texts, equal integers)
    reordered(column, order, runs_of(order)) -> column.take(order), from slices when few runs
    give_back()                       -> Arrow's freed memory returned to the system

A rule that edits few lines works on those lines alone (`w.loc[rows, names]`) and `scatter`s
each column it changed back once: every masked write to a million-line Arrow text column
rebuilds the whole column.
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


def scatter(
    table: pd.DataFrame, positions: np.ndarray[Any, np.dtype[np.intp]], column: str, values: Any
) -> None:
    """Set `table[column]` at the line `positions` (ascending) to `values` (same length, same
    dtype), in one pass over the column: Arrow text by Arrow's `replace_with_mask`."""
    old = table[column]
    data = _arrow_text(old)
    new = _arrow_text(values) if isinstance(values, pd.Series) else None
    if data is not None and new is not None:
        rows = np.zeros(len(old), dtype=bool)
        rows[positions] = True
        # replace_with_mask builds the result alone; a take from the old and new values
        # first joins them into one array (+50% of the column at its peak)
        replaced = pc.replace_with_mask(
            _one_array(data), pa.array(rows), _one_array(new.cast(data.type))
        )
        table[column] = pd.Series(pd.array(replaced, dtype=old.dtype), index=table.index)
        return
    array = old.array.copy()
    array[positions] = values.array if isinstance(values, pd.Series) else values
    table[column] = pd.Series(array, index=table.index)


def texts_at(
    values: pd.Series,
    positions: np.ndarray[Any, np.dtype[np.int64]],
    index: pd.Index | None = None,
) -> pd.Series:
    """`values` at `positions` as a text Series (on `index`, else a RangeIndex): "" for a
    missing value and for a position -1. On Arrow text one `take`: neither a filled copy of
    every value nor a masked write of the lines without one."""
    data = _arrow_text(values)
    if data is None:  # Python strings
        texts = values.fillna("").astype(str).to_numpy(dtype=object)
        taken = texts[np.maximum(positions, 0)] if len(texts) else np.full(len(positions), "")
        taken[positions < 0] = ""
        return pd.Series(taken, index=index, dtype="str")
    taken = data.take(pa.array(positions, mask=positions < 0))
    filled = taken.fill_null("") if taken.null_count else taken
    return pd.Series(pd.array(filled, dtype="str"), index=index)


def int_texts(values: pd.Series) -> pd.Series:
    """`values.astype("Int64").astype(str)` ("500"; <NA> stays missing), cast by Arrow: pandas
    makes a Python string per value."""
    ints = values.astype("Int64").array
    data = pa.array(ints.to_numpy(dtype=np.int64, na_value=0), mask=np.asarray(ints.isna()))
    texts = pc.cast(data, pa.large_string())
    return pd.Series(pd.array(texts, dtype="str"), index=values.index)


def mapped_texts(values: pd.Series, mapping: dict[str, str]) -> pd.Series:
    """`values.map(mapping).astype(str)` (missing where `mapping` has no value), by Arrow on
    Arrow text: pandas maps a Python object per line."""
    data = _arrow_text(values)
    if data is None:
        return values.map(mapping).astype(str)
    at = pc.index_in(data, value_set=pa.array(list(mapping), type=data.type))
    texts = pa.array(list(mapping.values()), type=pa.large_string()).take(at)
    return pd.Series(pd.array(texts, dtype="str"), index=values.index)


def text_codes(values: pd.Series) -> tuple[np.ndarray[Any, np.dtype[np.int64]], int]:
    """An integer per value, equal for equal texts and different for different ones, and how
    many distinct values there are. Arrow text is ranked (dense ranks in sorted order): a third
    of the memory of factorize's hash table of a million emails (~120 MB), and as fast."""
    data = _arrow_text(values)
    if data is None:
        codes, uniques = pd.factorize(values, use_na_sentinel=False)
        return np.asarray(codes, dtype=np.int64), len(uniques)
    if not len(data):
        return np.zeros(0, dtype=np.int64), 0
    ranks = pc.rank(data, sort_keys="ascending", tiebreaker="dense")
    codes = np.asarray(ranks.to_numpy(), dtype=np.int64) - 1
    return codes, int(codes.max()) + 1


# past this many runs a reorder is a take: slicing costs a Python step per run
MAX_RUNS = 10_000


def runs_of(order: np.ndarray[Any, np.dtype[np.intp]]) -> tuple[np.ndarray[Any, Any], ...]:
    """The runs of consecutive positions in a permutation `order`: (starts, lengths)."""
    breaks = np.flatnonzero(np.diff(order) != 1) + 1
    starts = order[np.concatenate([[0], breaks])] if len(order) else order[:0]
    lengths = np.diff(np.concatenate([[0], breaks, [len(order)]])) if len(order) else order[:0]
    return starts, lengths


def reordered(
    column: pd.Series,
    order: np.ndarray[Any, np.dtype[np.intp]],
    runs: tuple[np.ndarray[Any, Any], ...],
) -> pd.Series:
    """`column.take(order)` with a RangeIndex; `runs` are `runs_of(order)`. Arrow text that
    moves in few runs (lines inserted in a file's order) is joined from slices of itself:
    one new array, where a take first joins the column's chunks into another."""
    data = _arrow_text(column)
    starts, lengths = runs
    if data is None or len(starts) > MAX_RUNS:
        return column.take(order).reset_index(drop=True)
    chunked = data if isinstance(data, pa.ChunkedArray) else pa.chunked_array([data])
    pieces = [
        piece
        for start, length in zip(starts.tolist(), lengths.tolist(), strict=True)
        for piece in chunked.slice(start, length).chunks
    ]
    joined = pa.concat_arrays(pieces) if pieces else pa.array([], type=data.type)
    return pd.Series(pd.array(joined, dtype=column.dtype))


def give_back() -> None:
    """Return the Arrow memory freed so far to the system. Arrow's pool keeps freed pages for
    its own later use, out of reach of numpy and Python: between the planner's stages a
    million-line plan holds ~150 MB that way, on top of its peak."""
    pa.default_memory_pool().release_unused()


def _one_array(data: pa.Array | pa.ChunkedArray) -> pa.Array:
    """A chunked array as one array (its chunk when it has one), a plain one as it is."""
    if not isinstance(data, pa.ChunkedArray):
        return data
    return data.chunk(0) if data.num_chunks == 1 else data.combine_chunks()


def positions_in(values: pd.Series, index: pd.Index) -> np.ndarray[Any, np.dtype[np.int64]]:
    """Each value's position in `index` (unique), -1 when it is not there."""
    data, labels = _arrow_text(values), _arrow_text(index)
    if data is None or labels is None:
        return np.asarray(index.get_indexer(pd.Index(values)), dtype=np.int64)
    found = pc.index_in(data, value_set=labels.cast(data.type), skip_nulls=True)
    return np.asarray(found.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)


__all__ = [
    "give_back",
    "int_texts",
    "isin_texts",
    "mapped_texts",
    "positions_in",
    "reordered",
    "runs_of",
    "scatter",
    "set_where",
    "text_codes",
    "texts_at",
]

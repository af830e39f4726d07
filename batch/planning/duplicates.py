"""`check_duplicates`: two pending lines for one user and license kind, told apart by integers.

A million lines group by (key, kind) as one integer per line (the keys ranked, the kinds
factorized), not as pairs of texts: the first line of a group is kept and later ones are
compared with it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from batch.columns import text_codes
from batch.vocabulary import Code, Outcome

from .account_rules import Rows, mark, pending
from .table import Working


def check_duplicates(w: Working) -> None:
    """Two pending lines for one user and license (the file rules normally catch these).

    The first is kept; a later identical one is `skipped` (`duplicate`), a different one
    `invalid` (`conflict`). Lines are compared with the first of their (key, kind) group as
    `groupby(...).first()` gives it: the first line's action, type and row, and the group's
    first size that is not <NA>.
    """
    todo = pending(w).to_numpy(dtype=bool)
    at = np.flatnonzero(todo)
    # one integer per (key, kind): hashing a million integers, not a million pairs of texts
    keys = text_codes(w["key"])[0][todo]
    kinds, kind_values = pd.factorize(w["kind"].array, use_na_sentinel=False)
    group_of = keys.astype(np.int64) * (len(kind_values) + 1) + kinds[todo]
    later = pd.Series(group_of).duplicated(keep="first").to_numpy()
    if not later.any():
        return
    # factorize numbers groups in order of first appearance: group g starts at firsts[g]
    group, _ = pd.factorize(group_of)
    firsts = np.flatnonzero(~later)
    mine = np.flatnonzero(later)
    first = firsts[group[mine]]
    sizes = w["size"].array[todo]
    has = ~np.asarray(sizes.isna(), dtype=bool)
    values = np.asarray(sizes.to_numpy(dtype=np.int64, na_value=-1))
    sized = pd.Series(group[has]).duplicated(keep="first").to_numpy()
    first_size = np.full(len(firsts), -1, dtype=np.int64)  # -1: no size in the group
    first_size[group[has][~sized]] = values[has][~sized]
    action, user_type = w["action"].array[todo], w["user_type"].array[todo]
    same = (
        np.asarray(action[mine] == action[first], dtype=bool)
        & np.asarray(user_type[mine] == user_type[first], dtype=bool)
        & (values[mine] == first_size[group[mine]])
    )
    row_of_first = w["row"].iloc[at[first]].astype(str).to_numpy(dtype=object)
    for chosen, outcome, code, text in (
        (same, Outcome.SKIPPED, Code.DUPLICATE, "same license as row "),
        (~same, Outcome.INVALID, Code.CONFLICT, "contradicts row "),
    ):
        lines = np.zeros(len(w), dtype=bool)
        lines[at[mine[chosen]]] = True
        rows = row_of_first[chosen]  # in line order, as the marked lines are
        mark(w, pd.Series(lines, index=w.index), outcome, str(code), _prefixed(text, rows))


def _prefixed(text: str, values: np.ndarray[Any, Any]) -> Callable[[Rows], pd.Series]:
    """A message of some lines: `text` followed by each line's value, in line order."""
    return lambda d: text + pd.Series(values, index=d.index, dtype="str")


__all__ = ["check_duplicates"]

"""What the run changed: the lines that moved seats, and who holds what afterwards."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from batch.columns import positions_in
from batch.model import AccountSnapshot, SeatKey
from batch.planning.seats import SeatMoves
from batch.report.labels import seat_key
from batch.vocabulary import ADDONS, Action, Kind, Outcome, UserType, license_label

_CHANGE_COLUMNS = ("email", "kind", "license", "action", "previous")


def changing_lines(results: pd.DataFrame) -> pd.DataFrame:
    """Lines this run changed (applied) or would change (planned); not those of an earlier run."""
    outcome = results["outcome"].astype("string")
    mask = outcome.isin([str(Outcome.APPLIED), str(Outcome.PLANNED)]).fillna(False)
    moves = [str(a) for a in Action if a is not Action.NONE]
    mask &= results["action"].astype("string").isin(moves)
    if "done_earlier" in results.columns:
        mask &= ~results["done_earlier"].fillna(False).astype(bool)
    wanted = [c for c in _CHANGE_COLUMNS if c in results.columns]  # not a copy of every column
    return results.loc[mask.astype(bool).to_numpy(), wanted]


def seat_moves(results: pd.DataFrame) -> SeatMoves:
    """The seats a run's changing lines move: a line's `previous` frees a seat and its `license`
    takes one; a remove frees its license.

    Read from the result lines' license labels: only for a report written without its plan (a
    report rebuilt from the journal, a test). The pipeline hands the plan's own moves
    (`batch.planning.seat_moves(results, plan.seat_lines)`) to the report's sheets.
    """
    lines = changing_lines(results)
    freed: Counter[SeatKey] = Counter()
    granted: Counter[SeatKey] = Counter()
    previous = lines["previous"] if "previous" in lines else pd.Series("", index=lines.index)
    for action, label, before in zip(
        lines["action"].astype(str),
        lines["license"].astype(str),
        previous.fillna("").astype(str),
        strict=True,
    ):
        if action == Action.REMOVE:
            key = seat_key(before or label)
            if key is not None:
                freed[key] += 1
            continue
        if before == label:
            continue
        old, new = seat_key(before), seat_key(label)
        if old is not None:
            freed[old] += 1
        if new is not None:
            granted[new] += 1
    return SeatMoves(freed, granted)


def holding_table(snapshot: AccountSnapshot) -> pd.DataFrame:
    """Every user's licenses in a snapshot: one row per email and kind held, with its label,
    in the account's user order (each user's base type first, then the add-ons).

    Built from the users' columns as codes into a short list of labels: no Python string per
    user or license (a million users' table is a third of the memory it took that way)."""
    frame = snapshot.user_table.frame
    names: list[str] = []  # every label held, by code
    held: list[np.ndarray[Any, np.dtype[np.bool_]]] = []
    codes: list[np.ndarray[Any, np.dtype[np.int64]]] = []
    type_labels = {t.value: str(t) for t in UserType}
    at = positions_in(frame["type"].astype("str"), pd.Index(list(type_labels), dtype="str"))
    held.append(at >= 0)
    codes.append(at[at >= 0])
    names += type_labels.values()
    for kind in ADDONS:
        sizes = frame[kind.value].astype("Int64")
        has = sizes.notna().to_numpy()
        values = sizes.to_numpy(dtype=np.int64, na_value=0)[has]
        unique = np.unique(values)
        held.append(has)
        codes.append(len(names) + np.searchsorted(unique, values))
        names += [license_label(kind, size=int(size)) for size in unique]
    kinds = [Kind.BASE.value, *(k.value for k in ADDONS)]
    position = np.concatenate([np.flatnonzero(h) for h in held])
    rank = np.repeat(np.arange(len(kinds)), [int(h.sum()) for h in held])
    order = np.lexsort((rank, position))  # by user, then kind
    labels = pa.array(names, pa.string()).take(np.concatenate(codes)[order])
    return pd.DataFrame(
        {
            "email": pd.array(frame.index.array.take(position[order]), dtype="string"),
            "kind": pd.array(pa.array(kinds, pa.string()).take(rank[order]), dtype="string"),
            "label": pd.array(labels, dtype="string"),
        }
    )


def projected_holdings(before: AccountSnapshot, lines: pd.DataFrame) -> pd.DataFrame:
    """`holding_table` of the account after `lines` (planned or applied) on top of `before`.

    Each line sets (or, a removal, clears) one user's license of one kind, so the last line of
    each user and kind decides; a removed user type leaves the user Basic.
    """
    held = holding_table(before)
    kinds = [k.value for k in Kind]
    # (user, kind) as one integer key: numpy sorts these where string keys would be hashed
    everyone = pd.concat([held["email"], lines["email"].astype("string")])
    emails = pd.factorize(everyone, use_na_sentinel=False)[0].astype(np.int64)
    span = len(kinds) + 1
    held_keys = emails[: len(held)] * span + _kind_codes(held["kind"], kinds)
    line_keys = emails[len(held) :] * span + _kind_codes(lines["kind"], kinds)
    _, from_end = np.unique(line_keys[::-1], return_index=True)
    last = lines.iloc[np.sort(len(line_keys) - 1 - from_end)]
    removed = (last["action"].astype("string") == str(Action.REMOVE)).to_numpy(dtype=bool)
    is_base = (last["kind"].astype("string") == Kind.BASE.value).to_numpy(dtype=bool)
    label = last["license"].astype("string").reset_index(drop=True)
    label = label.mask(removed & is_base, str(UserType.BASIC))  # a removed type leaves Basic
    label = label.mask(removed & ~is_base)  # a removed add-on is not held (<NA>)
    kept = held.loc[~np.isin(held_keys, line_keys)]
    now = pd.DataFrame(  # the lines' texts stay in Arrow: no Python string per line
        {
            "email": last["email"].astype("string").array,
            "kind": last["kind"].astype("string").array,
            "label": label.array,
        }
    )
    return pd.concat([kept, now.loc[now["label"].notna().to_numpy()]], ignore_index=True)


def _kind_codes(kinds: pd.Series, order: list[str]) -> np.ndarray[Any, np.dtype[np.int64]]:
    """1 + each kind's position in `order`; 0 for a kind not in it."""
    codes = pd.Categorical(kinds.astype("string"), categories=order).codes
    return np.asarray(codes, dtype=np.int64) + 1

"""Seat arithmetic: free seats plus the seats this run frees, granted in file order.

A seat is named by a string key (`seat_key`): `"base:"` for the base license (Licensed and
On-prem users both hold one), `"webinar:500"` for an add-on size. Keys are strings so that the
planner can group a million lines by them without building tuples.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from batch.model import SeatKey, Seats
from batch.vocabulary import Kind, license_label

BASE_KEY = "base:"


def seat_key(key: SeatKey) -> str:
    """The string key of a SeatKey: `(Kind.WEBINAR, 500)` -> `"webinar:500"`."""
    kind, size = key
    return f"{kind.value}:{'' if size is None else size}"


def seat_key_of(text: str) -> SeatKey:
    """The SeatKey of a string key (inverse of `seat_key`)."""
    kind, _, size = text.partition(":")
    return Kind(kind), (int(size) if size else None)


def seat_keys(kinds: pd.Series, sizes: pd.Series) -> pd.Series:
    """Vectorised `seat_key` for add-on lines: kind values and Int64 sizes, same index."""
    return kinds.astype(str) + ":" + sizes.astype("Int64").astype(str)


def seat_label(text: str) -> str:
    """The report's license name of a seat key: `Webinar 500`, or `Licensed` for the base."""
    kind, size = seat_key_of(text)
    return "Licensed" if kind is Kind.BASE else license_label(kind, None, size)


def free_before(seats: Mapping[SeatKey, Seats]) -> dict[str, int]:
    """Purchased minus used per key before the run: negative when over-assigned.

    Over-assigned seats must be freed first: `available` is max(this + freed, 0).
    """
    return {seat_key(k): s.purchased - s.used for k, s in seats.items()}


def allocate(takes: pd.Series, available: Mapping[str, int], *, all_or_nothing: bool) -> pd.Series:
    """Which grants get a seat: per key, the first `available` grants in the Series' order.

    `takes` holds one seat key per grant, in file order. With `all_or_nothing`, a key whose
    grants do not all fit refuses every one of them. Returns a boolean Series on `takes`' index.
    """
    if takes.empty:
        return pd.Series(np.zeros(0, dtype=bool), index=takes.index)
    room = takes.map(dict(available)).fillna(0).to_numpy(dtype=np.int64)
    if all_or_nothing:
        wanted = takes.map(takes.value_counts()).to_numpy(dtype=np.int64)
        granted = wanted <= room
    else:
        granted = takes.groupby(takes, sort=False).cumcount().to_numpy() < room
    return pd.Series(granted, index=takes.index)


def allocate_with_changes(
    takes: pd.Series,
    change_frees: pd.Series,
    fixed_frees: Mapping[str, int],
    before: Mapping[str, int],
    *,
    all_or_nothing: bool,
) -> tuple[pd.Series, dict[str, int]]:
    """Allocate grants when some grants (size changes) also free a seat, but only if granted.

    `change_frees` is indexed like (a subset of) `takes`: the seat each change gives back.
    Starts by counting every change's seat as freed and drops the frees of refused changes
    until nothing moves (refusals only grow, so this ends). Returns (granted, freed per key).
    """
    granted = pd.Series(np.ones(len(takes), dtype=bool), index=takes.index)
    while True:
        live = change_frees[granted.loc[change_frees.index]]
        freed = dict(fixed_frees)
        for key, n in live.value_counts().items():
            freed[str(key)] = freed.get(str(key), 0) + int(n)
        available = {k: max(before.get(k, 0) + freed.get(k, 0), 0) for k in {*before, *freed}}
        new = allocate(takes, available, all_or_nothing=all_or_nothing)
        if new.equals(granted):
            return granted, freed
        granted = new


def no_seats_message(
    key: str,
    seats: Mapping[SeatKey, Seats],
    freed: Mapping[str, int],
    label: str | None = None,
    given: str | None = None,
) -> str:
    """The admin's message for a refused grant: bought, held, freed, and who took the last seat.

    `given` names the line that took the last free seat ("row 2 (ivo@example.com)"), when a
    line of this file took one. For 3 Webinar 500 seats, 2 held before the run:

        no free Webinar 500 seat: 3 purchased, 2 held, the last one given to row 2
        (ivo@example.com); free one or buy more
    """
    have = seats.get(seat_key_of(key), Seats(0, 0))
    parts = [f"{have.purchased} purchased", f"{have.used} held"]
    if freed.get(key, 0):
        parts.append(f"{freed[key]} freed by this file")
    if given:
        parts.append(f"the last one given to {given}")
    return f"no free {label or seat_label(key)} seat: {', '.join(parts)}; free one or buy more"


def last_given(
    takes: pd.Series, granted: pd.Series, rows: pd.Series, keys: pd.Series
) -> dict[str, str]:
    """Per seat key, the last granted line in file order as "row 2 (ivo@example.com)".

    `takes` holds the seat key of each grant and `granted` whether it got its seat (same index);
    `rows` and `keys` give each line's row and lower-case email.
    """
    won = takes[granted.to_numpy()]
    if won.empty:
        return {}
    last = won.index.to_series().groupby(won.to_numpy(), sort=False).last()
    return {str(k): f"row {rows[i]} ({keys[i]})" for k, i in last.items()}


def seats_after(
    seats: Mapping[SeatKey, Seats], freed: Mapping[str, int], granted: Mapping[str, int]
) -> dict[SeatKey, Seats]:
    """The projected seats once the plan is applied."""
    out: dict[SeatKey, Seats] = {}
    for key, have in seats.items():
        k = seat_key(key)
        out[key] = Seats(have.purchased, max(have.used - freed.get(k, 0), 0) + granted.get(k, 0))
    return out

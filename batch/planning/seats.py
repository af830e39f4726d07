"""Seats: the one owner of the seat concept, and the planner's seat arithmetic.

A seat is a `SeatKey`: `(Kind.BASE, None)` for the base license (Licensed and On-prem users
both hold one), `(Kind.WEBINAR, 500)` for an add-on size. Public, for every stage:

    seat_label((Kind.WEBINAR, 500))   -> "Webinar 500"   (the base seat: "Licensed")
    seat_of_label("On-prem")          -> (Kind.BASE, None); None for Basic and unknown words
    seat_order(key)                   -> sort key: the base seat first, then add-ons by kind, size
    seat_moves(results, plan.seat_lines) -> SeatMoves: seats freed and granted by the lines a
                                         run changed (applied or planned)

Inside the planner a seat is a short text (`seat_text`): `"base:"`, `"webinar:500"`, so that a
million lines group by it without building tuples. The plan writes each result line's seats as
such texts in `Plan.seat_lines`: per request, `seat_free` (the seat the line gives back) and
`seat_take` (the seat it takes).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd

from batch.columns import int_texts
from batch.model import SeatKey, Seats
from batch.vocabulary import PAID_TYPES, Kind, Outcome, UserType, license_label, parse_license_word

BASE_KEY = "base:"
BASE_SEAT: Final[SeatKey] = (Kind.BASE, None)
_KIND_ORDER: Final = {kind: n for n, kind in enumerate(Kind)}


def seat_label(key: SeatKey) -> str:
    """`Licensed` for the base seat, else the add-on's name and size (`Webinar 500`)."""
    kind, size = key
    return str(UserType.LICENSED) if kind is Kind.BASE else license_label(kind, size=size)


def seat_of_label(label: str) -> SeatKey | None:
    """The seat a license label takes: the base seat for Licensed and On-prem (both take one),
    sized add-ons their own; None for Basic, an add-on without a size and unknown words."""
    parsed = parse_license_word(label) if label else None
    if parsed is None:
        return None
    kind, user_type, size = parsed
    if kind is Kind.BASE:
        return BASE_SEAT if user_type in PAID_TYPES else None
    return (kind, size) if size is not None else None


def seat_order(key: SeatKey) -> tuple[int, int]:
    """Sort key of seats: the base seat first, then add-ons by kind and size."""
    kind, size = key
    return (_KIND_ORDER[kind], size or 0)


@dataclass(frozen=True)
class SeatMoves:
    """Seats freed and granted per license and size."""

    freed: Counter[SeatKey]
    granted: Counter[SeatKey]


# Plan.seat_lines: per result line (request id), the seat texts it frees and takes ("" none)
SEAT_LINE_COLUMNS: Final = ("request", "seat_free", "seat_take")


def seat_moves(results: pd.DataFrame, seat_lines: pd.DataFrame) -> SeatMoves:
    """Seats freed and granted by the lines a run changed: `applied` and `planned` lines of
    `results` not done by an earlier run, with their seats from the plan's `seat_lines`.

    A downgrade to Basic and an add-on removal free their seat; an upgrade from Basic and an
    add-on grant take one; a size change frees the old size and takes the new one; Licensed <->
    On-prem keeps the base seat (neither frees nor takes). Without a plan (validate) pass an
    empty `seat_lines`: nothing moves.

    >>> p = plan(requests, results, snapshot)
    >>> seat_moves(p.results, p.seat_lines).granted
    Counter({(<Kind.WEBINAR: 'webinar'>, 500): 1})
    """
    if results.empty or seat_lines.empty:
        return SeatMoves(Counter(), Counter())
    changed = results["outcome"].astype(str).isin([str(Outcome.APPLIED), str(Outcome.PLANNED)])
    if "done_earlier" in results.columns:
        changed &= ~results["done_earlier"].fillna(False).astype(bool)
    requests = results.loc[changed.to_numpy(dtype=bool), "request"]
    lines = seat_lines[seat_lines["request"].isin(requests.tolist())]
    return SeatMoves(_counted(lines["seat_free"]), _counted(lines["seat_take"]))


def _counted(texts: pd.Series) -> Counter[SeatKey]:
    counts = texts.fillna("").astype(str).value_counts()
    return Counter({seat_of_text(str(t)): int(n) for t, n in counts.items() if t})


def seat_text(key: SeatKey) -> str:
    """The planner's text of a seat: `(Kind.WEBINAR, 500)` -> `"webinar:500"`."""
    kind, size = key
    return f"{kind.value}:{'' if size is None else size}"


def seat_of_text(text: str) -> SeatKey:
    """The seat of a planner's seat text (inverse of `seat_text`)."""
    kind, _, size = text.partition(":")
    return Kind(kind), (int(size) if size else None)


def seat_texts(kinds: pd.Series, sizes: pd.Series) -> pd.Series:
    """Vectorised `seat_text` for add-on lines: kind values and Int64 sizes, same index."""
    return kinds.astype(str) + ":" + int_texts(sizes)


def free_before(seats: Mapping[SeatKey, Seats]) -> dict[str, int]:
    """Purchased minus used per key before the run: negative when over-assigned.

    Over-assigned seats must be freed first: `available` is max(this + freed, 0).
    """
    return {seat_text(k): s.purchased - s.used for k, s in seats.items()}


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
    have = seats.get(seat_of_text(key), Seats(0, 0))
    parts = [f"{have.purchased} purchased", f"{have.used} held"]
    if freed.get(key, 0):
        parts.append(f"{freed[key]} freed by this file")
    if given:
        parts.append(f"the last one given to {given}")
    name = label or seat_label(seat_of_text(key))
    return f"no free {name} seat: {', '.join(parts)}; free one or buy more"


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
        k = seat_text(key)
        out[key] = Seats(have.purchased, max(have.used - freed.get(k, 0), 0) + granted.get(k, 0))
    return out

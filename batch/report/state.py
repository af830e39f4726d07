"""What the run changed: the lines that moved seats, and who holds what afterwards."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import pandas as pd

from batch.model import AccountSnapshot, AccountUser, SeatKey
from batch.report.labels import seat_key
from batch.vocabulary import ADDONS, Action, Kind, Outcome, UserType, license_label

Holdings = dict[str, dict[str, str]]  # email -> kind value -> license label


def changing_lines(results: pd.DataFrame) -> pd.DataFrame:
    """Lines this run changed (applied) or would change (planned); not those of an earlier run."""
    outcome = results["outcome"].astype("string")
    mask = outcome.isin([str(Outcome.APPLIED), str(Outcome.PLANNED)]).fillna(False)
    moves = [str(a) for a in Action if a is not Action.NONE]
    mask &= results["action"].astype("string").isin(moves)
    if "done_earlier" in results.columns:
        mask &= ~results["done_earlier"].fillna(False).astype(bool)
    return results.loc[mask.astype(bool)]


@dataclass(frozen=True)
class SeatMoves:
    """Seats freed and granted per license and size."""

    freed: Counter[SeatKey]
    granted: Counter[SeatKey]


def seat_moves(lines: pd.DataFrame) -> SeatMoves:
    """A line's `previous` frees a seat and its `license` takes one; a remove frees its license."""
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


def holdings_of(user: AccountUser) -> dict[str, str]:
    """What one account user holds, as license labels per kind."""
    held: dict[str, str] = {}
    if user.type is not None:
        held[Kind.BASE.value] = str(user.type)
    for kind in ADDONS:
        size = user.addon(kind)
        if size is not None:
            held[kind.value] = license_label(kind, size=size)
    return held


def account_holdings(snapshot: AccountSnapshot) -> Holdings:
    """Every user's licenses in a snapshot."""
    return {email: holdings_of(user) for email, user in snapshot.users.items()}


def projected_holdings(before: AccountSnapshot, lines: pd.DataFrame) -> Holdings:
    """The account after `lines` (planned or applied) on top of `before`."""
    held = account_holdings(before)
    for email, kind, label, action in zip(
        lines["email"].astype(str),
        lines["kind"].astype(str),
        lines["license"].astype(str),
        lines["action"].astype(str),
        strict=True,
    ):
        user = held.setdefault(email, {})
        if action == Action.REMOVE:
            if kind == Kind.BASE:
                user[kind] = str(UserType.BASIC)
            else:
                user.pop(kind, None)
        else:
            user[kind] = label
    return held

"""The cross-row file rules: what one line means next to the other lines of the same user.

    not-stackable         one add-on assigned in two or more different explicit sizes
    conflict              two user types for one user, or one add-on both assigned and removed
    duplicate             the same instruction again (the first is kept, the rest skipped)
    missing-prerequisite  an add-on assigned to a user the file makes Basic

Each rule is a vectorised function over the whole table that returns its hits: a str Series
indexed by the refused lines' positions holding the evidence the message names (the sizes and
rows involved, or the row of the first line). Only lines that passed the per-value rules take
part, so an unknown size never makes a conflict.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from batch.vocabulary import ADDONS, Action, Kind, UserType

_KIND_CODES = {kind.value: code for code, kind in enumerate((Kind.BASE, *ADDONS))}
_TYPE_CODES = {user_type.value: code + 1 for code, user_type in enumerate(UserType)}


@dataclass(frozen=True)
class Keys:
    """Integer keys of every line, so that grouping 1M lines hashes ints, not strings."""

    user: np.ndarray  # the lower-cased email, factorised
    license: np.ndarray  # user and kind: one add-on (or the base type) of one user
    instruction: np.ndarray  # user, kind, user type, size and action: one whole instruction

    @classmethod
    def of(cls, table: pd.DataFrame) -> Keys:
        """Compute the keys of a normalised requests table."""
        user, _ = pd.factorize(table["email"])
        kind = table["kind"].map(_KIND_CODES).fillna(-1).to_numpy("int64") + 1
        user_type = table["user_type"].map(_TYPE_CODES).fillna(0).to_numpy("int64")
        size, _ = pd.factorize(table["size"], use_na_sentinel=True)
        action = (table["action"] == Action.REMOVE.value).to_numpy("int64")
        license_key = user.astype("int64") * 8 + kind
        instruction = ((license_key * 4 + user_type) * 2 + action) * (int(size.max(initial=0)) + 2)
        return cls(user=user, license=license_key, instruction=instruction + size + 1)


def _listing(keys: np.ndarray, values: pd.Series, rows: pd.Series) -> pd.Series:
    """Per line, its group's distinct values with the first row of each: `500 on row 4, ...`."""
    items = pd.DataFrame({"key": keys, "value": values.to_numpy(), "row": rows.to_numpy()})
    items = items.sort_values("row", kind="stable").drop_duplicates(["key", "value"])
    text = items["value"].astype("str") + " on row " + items["row"].astype("str")
    joined = text.groupby(items["key"].to_numpy(), sort=False).agg(", ".join)
    return pd.Series(joined.reindex(keys).to_numpy(), index=values.index, dtype="str")


def not_stackable(table: pd.DataFrame, keys: Keys, eligible: pd.Series) -> pd.Series:
    """Add-on assigns of one user and kind with two or more different explicit sizes."""
    lines = (
        eligible
        & table["kind"].isin([k.value for k in ADDONS])
        & (table["action"] == Action.ASSIGN.value)
        & table["size"].notna()
    )
    sub = table.loc[lines, ["size", "row"]]
    sub_keys = keys.license[lines.to_numpy()]
    sizes = sub["size"].groupby(sub_keys).transform("nunique")
    hit = (sizes > 1).to_numpy()
    return _listing(sub_keys[hit], sub.loc[hit, "size"], sub.loc[hit, "row"])


def conflict(table: pd.DataFrame, keys: Keys, eligible: pd.Series) -> pd.Series:
    """Two user types asked for one user, or one add-on both assigned and removed."""
    base = eligible & (table["kind"] == Kind.BASE.value)
    types = base & (table["action"] == Action.ASSIGN.value)
    addons = eligible & table["kind"].isin([k.value for k in ADDONS])
    found: list[pd.Series] = []
    for lines, column in ((types, "user_type"), (addons, "action")):
        sub = table.loc[lines, [column, "row"]]
        sub_keys = keys.license[lines.to_numpy()]
        hit = (sub[column].groupby(sub_keys).transform("nunique") > 1).to_numpy()
        found.append(_listing(sub_keys[hit], sub.loc[hit, column], sub.loc[hit, "row"]))
    hits: pd.Series = pd.concat(found).sort_index()
    return hits


def duplicate(table: pd.DataFrame, keys: Keys, eligible: pd.Series) -> pd.Series:
    """Repeats of an instruction; the evidence is the row of its first line."""
    mask = eligible.to_numpy()
    instruction = pd.Series(keys.instruction[mask], index=table.index[mask])
    rows = table["row"].to_numpy()[mask]
    repeat = instruction.duplicated(keep="first").to_numpy()
    first_row = pd.Series(rows[~repeat], index=instruction.to_numpy()[~repeat])
    repeats = instruction[repeat]
    return pd.Series(repeats.map(first_row).astype("str"), dtype="str")


def missing_prerequisite(table: pd.DataFrame, keys: Keys, applied: pd.Series) -> pd.Series:
    """Add-on assigns for users the file makes Basic; the evidence is that Basic line's row.

    `applied` marks the lines still valid after the other rules: a Basic line that is itself
    refused (say, in conflict with Licensed) changes nothing, so it cannot be held against an
    add-on. The order of the lines does not matter.
    """
    basic = (
        applied
        & (table["kind"] == Kind.BASE.value)
        & (table["action"] == Action.ASSIGN.value)
        & (table["user_type"] == UserType.BASIC.value)
    )
    basic_row = (
        pd.Series(table["row"].to_numpy()[basic.to_numpy()], index=keys.user[basic.to_numpy()])
        .groupby(level=0)
        .min()
    )
    grants = (
        applied
        & table["kind"].isin([k.value for k in ADDONS])
        & (table["action"] == Action.ASSIGN.value)
    ).to_numpy()
    users = pd.Series(keys.user[grants], index=table.index[grants])
    refused = users[users.isin(basic_row.index)]
    return pd.Series(refused.map(basic_row).astype("str"), dtype="str")

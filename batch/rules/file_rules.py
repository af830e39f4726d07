"""The cross-row file rules: what one line means next to the other lines of the same user.

    not-stackable         one add-on assigned in two or more different explicit sizes
    conflict              two user types for one user, or one add-on both assigned and removed
    duplicate             the same instruction again (the first is kept, the rest skipped)
    missing-prerequisite  an add-on assigned to a user the file makes Basic

The table is first turned into integer arrays (`Lines`), so that grouping a million lines hashes
ints, not strings. Each rule then returns its hits: a str Series indexed by the refused lines'
positions, holding the evidence its message names (the values and rows involved, or the row of
the first line). Only lines that passed the per-value rules (`eligible`) take part, so an
unknown size never makes a conflict.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from batch.vocabulary import ADDONS, Action, Kind, UserType

Ints = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]

# Integer codes; 0 means "not recognised" (such lines never pass the per-value rules).
_KINDS: Final = (Kind.BASE, *ADDONS)
_BASE: Final = 1
_USER_TYPES: Final = tuple(UserType)
_BASIC: Final = 1 + _USER_TYPES.index(UserType.BASIC)
_ACTION_WORDS: Final = np.array([Action.ASSIGN.value, Action.REMOVE.value])
_TYPE_WORDS: Final = np.array(["", *(t.value for t in _USER_TYPES)])


def _codes(column: pd.Series, values: tuple[str, ...]) -> Ints:
    """1 + the position of each line's value in `values`, 0 for anything else."""
    codes = np.zeros(len(column), dtype=np.int64)
    for code, value in enumerate(values, start=1):
        codes[(column == value).to_numpy(dtype=bool)] = code
    return codes


@dataclass(frozen=True)
class Lines:
    """The requests as integer arrays, one entry per line (positions 0..n-1)."""

    user: Ints  # the lower-cased email, factorised
    kind: Ints  # 0 unknown, 1 base, 2.. the add-ons
    user_type: Ints  # 0 none or unknown, 1.. the UserType values
    size: Ints  # -1 when no size was given
    remove: Mask  # action is remove (else assign, for eligible lines)
    row: Ints  # the Excel row

    @classmethod
    def of(cls, table: pd.DataFrame) -> Lines:
        """Encode a normalised requests table (RangeIndex, model dtypes)."""
        user, _ = pd.factorize(table["email"])
        return cls(
            user=user.astype(np.int64),
            kind=_codes(table["kind"], tuple(k.value for k in _KINDS)),
            user_type=_codes(table["user_type"], tuple(t.value for t in _USER_TYPES)),
            size=table["size"].fillna(-1).to_numpy(dtype=np.int64),
            remove=(table["action"] == Action.REMOVE.value).to_numpy(dtype=bool),
            row=table["row"].to_numpy(dtype=np.int64),
        )

    @property
    def addon(self) -> Mask:
        """Lines about an add-on."""
        return self.kind > _BASE

    @property
    def license(self) -> Ints:
        """One key per user and kind: one add-on (or the user type) of one user."""
        return self.user * (len(_KINDS) + 1) + self.kind

    @property
    def instruction(self) -> Ints:
        """One key per whole instruction: user, kind, user type, size and action."""
        size, _ = pd.factorize(self.size)
        key = (self.license * (len(_USER_TYPES) + 1) + self.user_type) * 2 + self.remove
        return key * (int(size.max(initial=0)) + 1) + size


def _differing(keys: Ints, values: Ints) -> Mask:
    """True for the lines whose group (same key) holds more than one distinct value."""
    width = int(values.max(initial=0)) + 1
    pairs = pd.unique(keys * width + values)  # each distinct (key, value) once
    per_key = pd.Series(pairs // width).value_counts()
    several = per_key.index[per_key.to_numpy() > 1]
    return pd.Series(keys).isin(several).to_numpy(dtype=bool)


def _listing(positions: Ints, keys: Ints, words: pd.Series, rows: Ints) -> pd.Series:
    """Per line, its group's distinct values with their first row: `500 on row 4, 1000 on ...`."""
    items = pd.DataFrame({"key": keys, "word": words.to_numpy(), "row": rows})
    items = items.sort_values("row", kind="stable").drop_duplicates(["key", "word"])
    text = items["word"] + " on row " + items["row"].astype("str")
    joined = text.groupby(items["key"].to_numpy(), sort=False).agg(", ".join)
    return pd.Series(joined.reindex(keys).to_numpy(), index=positions, dtype="str")


def _group_hits(lines: Lines, among: Mask, values: Ints, words: npt.NDArray[np.str_]) -> pd.Series:
    """Lines of `among` whose user-and-kind group holds several values, listed as evidence."""
    positions = np.flatnonzero(among)
    keys = lines.license[positions]
    hit = _differing(keys, values[positions])
    positions, keys = positions[hit], keys[hit]
    shown = pd.Series(words[values[positions]], dtype="str")
    return _listing(positions, keys, shown, lines.row[positions])


def not_stackable(lines: Lines, eligible: Mask) -> pd.Series:
    """Add-on assigns of one user and kind with two or more different explicit sizes."""
    among = eligible & lines.addon & ~lines.remove & (lines.size >= 0)
    sizes = np.unique(lines.size[among])
    index = np.searchsorted(sizes, lines.size).clip(0, max(len(sizes) - 1, 0))
    return _group_hits(lines, among, index, sizes.astype("str"))


def conflict(lines: Lines, eligible: Mask) -> pd.Series:
    """Two user types asked for one user, or one add-on both assigned and removed."""
    types = _group_hits(
        lines, eligible & (lines.kind == _BASE) & ~lines.remove, lines.user_type, _TYPE_WORDS
    )
    actions = _group_hits(
        lines, eligible & lines.addon, lines.remove.astype(np.int64), _ACTION_WORDS
    )
    hits: pd.Series = pd.concat([types, actions]).sort_index()
    return hits


def duplicate(lines: Lines, eligible: Mask) -> pd.Series:
    """Repeats of an instruction; the evidence is the row of its first line."""
    positions = np.flatnonzero(eligible)
    instruction = pd.Series(lines.instruction[positions])
    repeat = instruction.duplicated(keep="first").to_numpy(dtype=bool)
    first_row = pd.Series(lines.row[positions[~repeat]], index=instruction[~repeat].to_numpy())
    found = instruction[repeat].map(first_row).astype("str")
    return pd.Series(found.to_numpy(), index=positions[repeat], dtype="str")


def missing_prerequisite(lines: Lines, applied: Mask) -> pd.Series:
    """Add-on assigns for users the file makes Basic; the evidence is that Basic line's row.

    `applied` marks the lines still valid after the other rules: a Basic line that is itself
    refused (say, in conflict with Licensed) changes nothing, so it cannot be held against an
    add-on. The order of the lines does not matter.
    """
    basic = applied & (lines.kind == _BASE) & ~lines.remove & (lines.user_type == _BASIC)
    basic_row = pd.Series(lines.row[basic]).groupby(lines.user[basic]).min()
    positions = np.flatnonzero(applied & lines.addon & ~lines.remove)
    users = pd.Series(lines.user[positions], index=positions)
    refused = users[users.isin(basic_row.index)]
    return pd.Series(refused.map(basic_row).astype("str"), dtype="str")
